"""Property: at every instant, what the portal and the API would show each partner organisation equals a small
reference model written from docs/design.md's rule, whatever the organisations, agreements, jurisdiction policy,
suspensions, wave times and release-task timing. Above all, nothing is ever visible before its wave or above the
organisation's level."""

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import time_machine
from django.db import transaction
from django.http import Http404
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisories import selectors, services
from compliance.entitlements import partner_access, token_access
from core.levels import AccessLevel
from partners.models import ApiToken, Partner, PartnerStatus
from tests.factories import (
    AdvisoryFactory,
    AgreementFactory,
    ArtifactFactory,
    ContractVersionFactory,
    DocumentFactory,
    JurisdictionPolicyFactory,
    MembershipFactory,
    PartnerFactory,
    WaveFactory,
)

T0 = datetime(2031, 3, 1, 12, 0, tzinfo=UTC)
NONE, GENERIC, STANDARD, EARLY = AccessLevel.NONE, AccessLevel.GENERIC, AccessLevel.STANDARD, AccessLevel.EARLY
WINDOW = st.tuples(st.integers(-200, 100), st.integers(1, 300))  # (minutes from T0 to signing, minutes valid)


@dataclass
class OrganisationSpec:
    assigned: int
    country: str
    nda: tuple | None
    poc: tuple | None
    suspended_during: tuple | None  # (first step, last step) of a suspension, in check steps


@dataclass
class World:
    organisations: list[OrganisationSpec]
    policy: tuple | None  # (minutes from T0, cap) for CN
    waves: dict  # level -> minutes from T0
    steps: list[int]  # check instants, minutes from T0, increasing
    deliveries: dict = field(default_factory=dict)  # reference: organisation index -> set of delivered levels


organisations = st.builds(
    OrganisationSpec,
    assigned=st.sampled_from([GENERIC, STANDARD, EARLY]),
    country=st.sampled_from(["US", "CN"]),
    nda=st.one_of(st.none(), WINDOW),
    poc=st.one_of(st.none(), WINDOW),
    suspended_during=st.one_of(st.none(), st.tuples(st.integers(0, 4), st.integers(0, 4)).map(sorted).map(tuple)),
)


@st.composite
def worlds(draw):
    early = draw(st.integers(0, 60))
    standard = early + draw(st.integers(0, 60))
    public = standard + draw(st.integers(0, 60))
    waves = {EARLY: early, STANDARD: standard, GENERIC: public}
    for level in (EARLY, STANDARD):
        if draw(st.booleans()):
            del waves[level]
    steps = sorted(set(draw(st.lists(st.integers(-10, 200), min_size=1, max_size=5))))
    policy = draw(st.one_of(st.none(), st.tuples(st.integers(-50, 200), st.sampled_from([NONE, GENERIC, STANDARD]))))
    return World(draw(st.lists(organisations, min_size=1, max_size=4)), policy, waves, steps)


def _minutes(value):
    return T0 + timedelta(minutes=value)


def _valid(window, at):
    if window is None:
        return False
    signed, length = window
    return _minutes(signed) <= at < _minutes(signed + length)


def reference_level(spec: OrganisationSpec, world: World, at, step_index) -> int:
    """docs/design.md's rule, written again from the text: none unless active, else the minimum of the assigned level,
    the contract cap (NDA for every level, PoC addendum for early) and the jurisdiction cap in force."""
    suspended = spec.suspended_during is not None and spec.suspended_during[0] <= step_index <= spec.suspended_during[1]
    if suspended:
        return NONE
    contract = NONE if not _valid(spec.nda, at) else (EARLY if _valid(spec.poc, at) else STANDARD)
    jurisdiction = EARLY
    if spec.country == "CN" and world.policy is not None and _minutes(world.policy[0]) <= at:
        jurisdiction = world.policy[1]
    return min(spec.assigned, contract, jurisdiction)


def reference_release(world: World, at, step_index, released: set):
    """Waves due at `at` release in order, earliest level first. Each release delivers what is due then (the one
    delivery path): to an organisation entitled to at least one released wave, the highest such wave (after the
    public release, the generic one only), unless it holds a delivery at that level or above."""
    for level in (EARLY, STANDARD, GENERIC):
        if level in world.waves and level not in released and _minutes(world.waves[level]) <= at:
            released.add(level)
            for index, spec in enumerate(world.organisations):
                held = world.deliveries.setdefault(index, set())
                entitled = reference_level(spec, world, at, step_index)
                waves = {GENERIC} if GENERIC in released else released
                due = max((wave for wave in waves if wave <= entitled), default=None)
                if due is not None and not any(h >= due for h in held):
                    held.add(due)


def reference_visible(world: World, index, object_level, at, step_index) -> bool:
    level = reference_level(world.organisations[index], world, at, step_index)
    return level >= object_level and any(h >= object_level for h in world.deliveries.get(index, ()))


def _build(world: World):
    nda = ContractVersionFactory(contract_key="nda", required_from_level=GENERIC, effective_at=_minutes(-10_000))
    poc = ContractVersionFactory(contract_key="poc", required_from_level=EARLY, effective_at=_minutes(-10_000))
    if world.policy is not None:
        JurisdictionPolicyFactory(country="CN", cap_level=world.policy[1], effective_at=_minutes(world.policy[0]))
    partners, users, tokens = [], [], []
    for spec in world.organisations:
        partner = PartnerFactory(assigned_level=spec.assigned, country=spec.country)
        for version, window in ((nda, spec.nda), (poc, spec.poc)):
            if window is not None:
                AgreementFactory(
                    partner=partner,
                    contract_version=version,
                    signed_at=_minutes(window[0]),
                    valid_until=_minutes(window[0] + window[1]),
                )
        partners.append(partner)
        user = MembershipFactory(partner=partner).user
        users.append(user)
        tokens.append(
            ApiToken.objects.create(
                partner=partner,
                name="sync",
                prefix=f"p{partner.pk}",
                secret_sha256=f"{partner.pk:064d}",
                created_by=user,
                expires_at=_minutes(10_000),
            )
        )
    advisory = AdvisoryFactory(public_release_at=_minutes(world.waves[GENERIC]))
    objects = {
        "advisory": (advisory, GENERIC),
        "generic document": (DocumentFactory(advisory=advisory, level=GENERIC), GENERIC),
        "standard document": (DocumentFactory(advisory=advisory, level=STANDARD), STANDARD),
        "standard file": (ArtifactFactory(advisory=advisory, level=STANDARD), STANDARD),
        "early file": (ArtifactFactory(advisory=advisory, level=EARLY, filename="poc.py"), EARLY),
    }
    for level, minutes in world.waves.items():
        WaveFactory(advisory=advisory, level=level, scheduled_at=_minutes(minutes))
    return partners, users, tokens, advisory, objects


def _shown(access, advisory, objects, *, listing) -> dict[str, bool]:
    """What the selectors behind the portal's and the API's views answer, now, for each object."""
    try:
        page = selectors.advisory_for_partner(access=access, identifier=advisory.identifier)
    except Http404:
        page = None
    answers = {"advisory": page is not None and listing(access=access).filter(pk=advisory.pk).exists()}
    for name, (obj, _) in objects.items():
        if name.endswith("document"):
            answers[name] = page is not None and obj in page.documents.all()
        elif name.endswith("file"):
            try:
                selectors.artifact_for_partner(access=access, identifier=advisory.identifier, artifact_id=obj.pk)
                answers[name] = True
            except Http404:
                answers[name] = False
    return answers


@settings(
    max_examples=int(os.environ.get("FOREWARN_PROPERTY_EXAMPLES", "250")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(world=worlds())
def test_the_portal_agrees_with_the_reference_model_at_every_instant(db, world):
    # `db` is shared by the examples; each one runs in a savepoint that is rolled back at its end.
    with transaction.atomic():
        with time_machine.travel(_minutes(-20_000), tick=False):
            partners, users, tokens, advisory, objects = _build(world)
        released: set = set()
        for step_index, minutes in enumerate(world.steps):
            at = _minutes(minutes)
            with time_machine.travel(at, tick=False):
                for index, spec in enumerate(world.organisations):
                    suspended = spec.suspended_during is not None and (
                        spec.suspended_during[0] <= step_index <= spec.suspended_during[1]
                    )
                    Partner.objects.filter(pk=partners[index].pk).update(
                        status=PartnerStatus.SUSPENDED if suspended else PartnerStatus.ACTIVE
                    )
                services.release_due_waves()
                reference_release(world, at, step_index, released)
                for index, (user, token) in enumerate(zip(users, tokens, strict=True)):
                    expected = {
                        name: reference_visible(world, index, level, at, step_index)
                        for name, (_, level) in objects.items()
                    }
                    portal = _shown(partner_access(user), advisory, objects, listing=selectors.advisories_for_partner)
                    api = _shown(token_access(token), advisory, objects, listing=selectors.advisories_for_partner_sync)
                    assert portal == expected, ("portal", index, minutes)
                    assert api == expected, ("api", index, minutes)
        transaction.set_rollback(True)
