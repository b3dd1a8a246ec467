"""Property: whatever happens, in whatever order — waves and cohorts coming due, agreements signed and expiring,
level caps imposed and ending, jurisdiction policies changing, suspension, reinstatement, level changes, time
passing — no delivery is ever made before its wave or its organisation's cohort, nor above the organisation's level
at that instant (by a small reference model of docs/design.md's rule), nor twice; and after a reconciliation,
nothing due is missing."""

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisories import services
from advisories.models import Delivery, ReleaseCohort, ReleaseWave, WaveStatus
from compliance import services as compliance_services
from core.levels import AccessLevel
from partners import services as partner_services
from partners.models import Partner, PartnerStatus
from tests.factories import (
    AdvisoryFactory,
    AgreementFactory,
    ContractVersionFactory,
    JurisdictionPolicyFactory,
    LevelCapFactory,
    PartnerFactory,
    ProgramManagerFactory,
    WaveFactory,
)

T0 = datetime(2031, 6, 1, 12, 0, tzinfo=UTC)
NONE, GENERIC, STANDARD, EARLY = AccessLevel.NONE, AccessLevel.GENERIC, AccessLevel.STANDARD, AccessLevel.EARLY
PARTNERS = 3
EXAMPLES = int(os.environ.get("FOREWARN_DELIVERY_PROPERTY_EXAMPLES", "300" if os.environ.get("CI") else "40"))


def _at(minutes):
    return T0 + timedelta(minutes=minutes)


@dataclass
class Facts:
    """The reference model's memory of one organisation: what the rule reads."""

    assigned: int
    country: str
    status: str = PartnerStatus.ACTIVE
    nda: list = field(default_factory=list)  # (from, until) minutes
    poc: list = field(default_factory=list)
    caps: list = field(default_factory=list)  # (level, from, until) minutes


@dataclass
class Model:
    partners: list[Facts]
    policies: list = field(default_factory=list)  # (effective minutes, cap) for CN

    def level(self, index: int, minutes: int) -> int:
        """docs/design.md's rule, written again: none unless active, else the minimum of the assigned level, the
        contract cap (an NDA for every level, the PoC addendum for early), the CN policy in force and any cap."""
        facts = self.partners[index]
        if facts.status != PartnerStatus.ACTIVE:
            return NONE

        def holds(windows):
            return any(start <= minutes < end for start, end in windows)

        contract = NONE if not holds(facts.nda) else (EARLY if holds(facts.poc) else STANDARD)
        jurisdiction = EARLY
        in_force = [p for p in self.policies if p[0] <= minutes]
        if facts.country == "CN" and in_force:
            jurisdiction = max(in_force, key=lambda p: p[0])[1]
        caps = [level for level, start, end in facts.caps if start <= minutes < end]
        return min(facts.assigned, contract, jurisdiction, *caps)


@dataclass
class Plan:
    partners: list[tuple]  # (assigned, country, nda signed, poc signed)
    advisories: list[dict]  # level -> wave minutes; "cohort": (level, minutes, partner indexes) or None
    operations: list[tuple]  # (minutes to advance, operation, arguments...)


# Mostly signed, so that most organisations have something to receive; the operations may take it away.
signed = st.sampled_from([True, True, True, False])
partner_plans = st.tuples(
    st.sampled_from([GENERIC, STANDARD, EARLY, EARLY]), st.sampled_from(["US", "US", "CN"]), signed, signed
)
who = st.integers(0, PARTNERS - 1)
# A release tick runs before every operation (beat runs it every few seconds), so that waves and cohorts coming due
# meet every other operation; "wait" only lets time pass.
operations = st.tuples(
    st.integers(0, 15),
    st.one_of(
        st.tuples(st.just("wait")),
        st.tuples(st.just("reconcile")),
        st.tuples(st.just("sign"), who, st.sampled_from(["nda", "poc"])),
        st.tuples(st.just("expire"), who),
        st.tuples(st.just("cap"), who, st.sampled_from([NONE, GENERIC, STANDARD]), st.integers(1, 60)),
        st.tuples(st.just("policy"), st.sampled_from([NONE, GENERIC, STANDARD, EARLY]), st.integers(0, 30)),
        st.tuples(st.just("suspend"), who),
        st.tuples(st.just("reinstate"), who),
        st.tuples(st.just("level"), who, st.sampled_from([GENERIC, STANDARD, EARLY])),
    ),
).map(lambda pair: (pair[0], *pair[1]))


@st.composite
def advisory_plans(draw):
    early = draw(st.integers(0, 30))
    standard = early + draw(st.integers(0, 30))
    public = standard + draw(st.integers(20, 60))
    waves = {EARLY: early, STANDARD: standard, GENERIC: public}
    cohort = None
    if draw(st.sampled_from([True, True, True, False])):
        level = draw(st.sampled_from([EARLY, STANDARD]))
        minutes = draw(st.integers(waves[level] + 10, public))
        members = draw(st.sets(st.integers(0, PARTNERS - 1), min_size=1, max_size=2))
        cohort = (level, minutes, sorted(members))
    return {"waves": waves, "cohort": cohort}


plans = st.builds(
    Plan,
    partners=st.lists(partner_plans, min_size=PARTNERS, max_size=PARTNERS),
    advisories=st.lists(advisory_plans(), min_size=1, max_size=2),
    operations=st.lists(operations, min_size=3, max_size=12),
)


def _build(plan: Plan):
    nda = ContractVersionFactory(contract_key="nda", required_from_level=GENERIC, effective_at=_at(-10_000))
    poc = ContractVersionFactory(contract_key="poc", required_from_level=EARLY, effective_at=_at(-10_000))
    model = Model(partners=[])
    partners = []
    for assigned, country, nda_signed, poc_signed in plan.partners:
        partner = PartnerFactory(assigned_level=assigned, country=country)
        facts = Facts(assigned=assigned, country=country)
        for version, signed, windows in ((nda, nda_signed, facts.nda), (poc, poc_signed, facts.poc)):
            if signed:
                AgreementFactory(
                    partner=partner, contract_version=version, signed_at=_at(-1000), valid_until=_at(10_000)
                )
                windows.append((-1000, 10_000))
        partners.append(partner)
        model.partners.append(facts)
    for advisory_plan in plan.advisories:
        advisory = AdvisoryFactory(public_release_at=_at(advisory_plan["waves"][GENERIC]))
        waves = {
            level: WaveFactory(advisory=advisory, level=level, scheduled_at=_at(minutes))
            for level, minutes in advisory_plan["waves"].items()
        }
        if advisory_plan["cohort"] is not None:
            level, minutes, members = advisory_plan["cohort"]
            cohort = ReleaseCohort.objects.create(wave=waves[level], name="later", scheduled_at=_at(minutes))
            cohort.partners.set([partners[i] for i in members])
    return {"nda": nda, "poc": poc, "manager": ProgramManagerFactory()}, partners, model


def _apply(operation, minutes, world, partners, model, capture, seen):
    """Run the release tick, then one operation at `minutes`, through the services (what they queue after commit
    runs then too), and record in the reference model what it changed."""
    name, *arguments = operation
    with capture(execute=True):
        services.release_due_waves()
        compliance_services.apply_due_jurisdiction_policies()
    _check_new_deliveries(seen, partners, model, minutes)
    with capture(execute=True):
        if name == "reconcile":
            services.reconcile_deliveries()
        elif name == "sign":
            index, contract = arguments
            partner = Partner.objects.get(pk=partners[index].pk)
            if partner.status == PartnerStatus.REMOVED:
                return
            version = world[contract]
            agreement = compliance_services.record_agreement(
                actor=world["manager"],
                partner=partner,
                contract_version=version,
                signer_name="Dana",
                signer_title="CISO",
                signed_at=_at(minutes),
            )
            windows = model.partners[index].nda if contract == "nda" else model.partners[index].poc
            windows.append((minutes, minutes + version.validity_days * 24 * 60))
            assert agreement.valid_until == _at(windows[-1][1])
        elif name == "expire":
            (index,) = arguments
            partners[index].agreements.filter(contract_version=world["nda"], valid_until__gt=_at(minutes)).update(
                valid_until=_at(minutes)
            )
            facts = model.partners[index]
            facts.nda = [(start, min(end, minutes)) for start, end in facts.nda]
        elif name == "cap":
            index, level, length = arguments
            LevelCapFactory(
                partner=partners[index], cap_level=level, starts_at=_at(minutes), ends_at=_at(minutes + length)
            )
            model.partners[index].caps.append((level, minutes, minutes + length))
        elif name == "policy":
            cap, delay = arguments
            # A distinct instant for each policy, so that "the newest in force" is never a tie.
            effective = minutes + delay + len(model.policies) / 1000
            JurisdictionPolicyFactory(country="CN", cap_level=cap, effective_at=_at(effective))
            model.policies.append((effective, cap))
        elif name in ("suspend", "reinstate"):
            (index,) = arguments
            partner = Partner.objects.get(pk=partners[index].pk)
            expected = PartnerStatus.ACTIVE if name == "suspend" else PartnerStatus.SUSPENDED
            if partner.status != expected:
                return
            change = partner_services.suspend_partner if name == "suspend" else partner_services.reinstate_partner
            change(partner=partner, actor=world["manager"], reason="property")
            model.partners[index].status = PartnerStatus.SUSPENDED if name == "suspend" else PartnerStatus.ACTIVE
        elif name == "level":
            index, level = arguments
            partner = Partner.objects.get(pk=partners[index].pk)
            if partner.assigned_level == level:
                return
            partner_services.change_assigned_level(partner=partner, level=level, actor=world["manager"], reason="p")
            model.partners[index].assigned = level


def _check_new_deliveries(seen: set, partners, model, minutes):
    """Every delivery made now: not before its wave or its organisation's cohort, not above the organisation's
    level now; after the public release, the generic content only."""
    index_of = {partner.pk: index for index, partner in enumerate(partners)}
    for delivery in Delivery.objects.exclude(pk__in=seen).select_related("wave", "cohort", "advisory"):
        seen.add(delivery.pk)
        assert delivery.delivered_at == _at(minutes)
        assert delivery.wave.scheduled_at <= delivery.delivered_at, "before its wave"
        cohort = ReleaseCohort.objects.filter(wave=delivery.wave, partners=delivery.partner_id).first()
        if cohort is not None:
            assert cohort.scheduled_at <= delivery.delivered_at, "before its cohort"
            assert delivery.cohort == cohort
        assert delivery.level <= model.level(index_of[delivery.partner_id], minutes), "above its level"
        public_release = ReleaseWave.objects.get(advisory=delivery.advisory, level=GENERIC).released_at
        if public_release is not None and public_release < delivery.delivered_at:
            assert delivery.level == GENERIC, "more than the public archive after the public release"


def _reference_due(partners, model, minutes) -> set:
    """(organisation, advisory, level) due now and not held, by the reference rule over the released waves."""
    at = _at(minutes)
    missing = set()
    released = list(ReleaseWave.objects.filter(status=WaveStatus.RELEASED, released_at__lte=at))
    for index, partner in enumerate(partners):
        level = model.level(index, minutes)
        held = list(Delivery.objects.filter(partner=partner).values_list("advisory_id", "level"))
        for advisory_id in {wave.advisory_id for wave in released}:
            waves = [wave for wave in released if wave.advisory_id == advisory_id]
            if any(wave.level == GENERIC for wave in waves):
                waves = [wave for wave in waves if wave.level == GENERIC]
            entitled = [
                wave.level
                for wave in waves
                if wave.level <= level
                and not ReleaseCohort.objects.filter(wave=wave, partners=partner, scheduled_at__gt=at).exists()
            ]
            if not entitled:
                continue
            due = max(entitled)
            if not any(a == advisory_id and held_level >= due for a, held_level in held):
                missing.add((index, advisory_id, due))
    return missing


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(plan=plans)
def test_deliveries_are_never_early_or_above_level_and_nothing_due_is_missing_after_reconciliation(
    db, django_capture_on_commit_callbacks, plan
):
    # `db` is shared by the examples; each one runs in a savepoint that is rolled back at its end.
    with transaction.atomic():
        with time_machine.travel(_at(-20_000), tick=False):
            world, partners, model = _build(plan)
        minutes, seen = -5, set()
        # Then a reconciliation, and a last release tick and reconciliation once every wave and cohort is due.
        last = max(advisory["waves"][GENERIC] for advisory in plan.advisories)
        finale = [(1, "reconcile"), (max(1, last + 1 - minutes - sum(op[0] for op in plan.operations)), "wait")]
        for advance, *operation in [*plan.operations, *finale, (1, "reconcile")]:
            minutes += advance
            with time_machine.travel(_at(minutes), tick=False):
                _apply(operation, minutes, world, partners, model, django_capture_on_commit_callbacks, seen)
                _check_new_deliveries(seen, partners, model, minutes)
                if operation[0] == "reconcile":
                    assert _reference_due(partners, model, minutes) == set(), "due but missing"
        assert Delivery.objects.count() == len(seen)
        transaction.set_rollback(True)
