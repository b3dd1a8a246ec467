"""The entitlement rule, and the one place where partner access to released objects is decided.

`compute_effective_level` is the rule itself, a pure function of facts. `effective_levels` gathers those facts
for many partners in a fixed number of queries (release fan-out), `effective_level` for one, `partner_access` and
`token_access` for the user or API token acting. `advisories.access` combines the level with the object
permissions granted when a wave released; views and the API call them and never check access themselves.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import models
from django.db.models import Q, Value

from compliance.fact_queries import json_rows, with_entitlement_facts
from compliance.models import Agreement, ContractVersion, EnforcementAction, EnforcementKind, JurisdictionPolicy
from core.clock import embargo_now_expression
from core.compiled_queries import CompiledQuery
from core.levels import AccessLevel
from partners.models import ApiToken, Partner, PartnerMembership, PartnerStatus


@dataclass(frozen=True)
class SignedAgreement:
    contract_key: str
    version: int
    signed_at: datetime
    valid_until: datetime
    agreement_id: int | None = None


def current_versions(versions: Iterable[ContractVersion], at: datetime) -> dict[str, ContractVersion]:
    """The version of each contract in force at `at`: the newest whose effective time has come."""
    current: dict[str, ContractVersion] = {}
    for version in versions:
        if version.effective_at <= at and (
            version.contract_key not in current or version.version > current[version.contract_key].version
        ):
            current[version.contract_key] = version
    return current


def covered_until(*, required: ContractVersion, agreement: SignedAgreement) -> datetime | None:
    """Until when `agreement` satisfies `required` (the current version of its contract), or None if it never
    does: an agreement to the version itself until it expires; one to an older version until it expires or the
    re-sign deadline passes, whichever comes first."""
    if agreement.contract_key != required.contract_key:
        return None
    if agreement.version == required.version:
        return agreement.valid_until
    grace_until = required.previous_versions_valid_until
    if agreement.version < required.version and grace_until is not None:
        return min(agreement.valid_until, grace_until)
    return None


def counts_until(*, agreement: SignedAgreement, newest: ContractVersion) -> datetime:
    """The instant an agreement stops counting for its contract, given the newest published version of that
    contract: its expiry, or, for an earlier version, the re-sign deadline (without one, the newest version's
    effective time) when that comes first."""
    if agreement.version >= newest.version:
        return agreement.valid_until
    return covered_until(required=newest, agreement=agreement) or min(agreement.valid_until, newest.effective_at)


def covering_agreement(
    *, required: ContractVersion, agreements: Iterable[SignedAgreement], at: datetime
) -> SignedAgreement | None:
    """Of the agreements, the one that satisfies `required` at `at` for longest; None when none does."""
    best, best_until = None, None
    for agreement in agreements:
        until = covered_until(required=required, agreement=agreement)
        if until is None or not (agreement.signed_at <= at < until):
            continue
        if best_until is None or until > best_until:
            best, best_until = agreement, until
    return best


def contract_cap(
    *, versions: Iterable[ContractVersion], agreements: Iterable[SignedAgreement], at: datetime
) -> AccessLevel:
    """The highest level all of whose required contract versions are held signed and unexpired at `at`."""
    current = current_versions(versions, at)
    agreements = list(agreements)

    def holds(required: ContractVersion) -> bool:
        return covering_agreement(required=required, agreements=agreements, at=at) is not None

    cap = AccessLevel.NONE
    for level in (AccessLevel.GENERIC, AccessLevel.STANDARD, AccessLevel.EARLY):
        required_here = [v for v in current.values() if v.required_from_level <= level]
        if not all(holds(v) for v in required_here):
            break
        cap = level
    return cap


def jurisdiction_cap(*, policies: Iterable[JurisdictionPolicy], country: str, at: datetime) -> AccessLevel:
    """The cap of the newest policy for `country` in force at `at`; no cap (early) when there is none."""
    in_force = [p for p in policies if str(p.country) == str(country) and p.effective_at <= at]
    if not in_force:
        return AccessLevel.EARLY
    return AccessLevel(max(in_force, key=lambda p: p.effective_at).cap_level)


def enforcement_cap(*, actions: Iterable[EnforcementAction], at: datetime) -> AccessLevel:
    """The lowest level cap set by an enforcement action in force at `at`; no cap (early) when there is none."""
    caps = [
        a.cap_level
        for a in actions
        if a.kind == EnforcementKind.LEVEL_CAP and a.starts_at <= at and (a.ends_at is None or at < a.ends_at)
    ]
    return AccessLevel(min(caps)) if caps else AccessLevel.EARLY


def compute_effective_level(
    *, status: str, assigned_level: int, contract_cap: int, jurisdiction_cap: int, enforcement_cap: int
) -> AccessLevel:
    """docs/design.md's rule: none unless active; else the minimum of the assigned level and every cap."""
    if status != PartnerStatus.ACTIVE:
        return AccessLevel.NONE
    return AccessLevel(min(assigned_level, contract_cap, jurisdiction_cap, enforcement_cap))


@dataclass(frozen=True)
class EntitlementFacts:
    """Why a partner has the effective level it has at one instant: each input of the rule, and the result."""

    status: str
    assigned_level: AccessLevel
    contract_cap: AccessLevel
    jurisdiction_cap: AccessLevel
    enforcement_cap: AccessLevel
    level: AccessLevel

    def reasons_below(self, wanted: int) -> list[str]:
        """Plain-language reasons the partner falls short of `wanted` (empty when it reaches it)."""
        if self.level >= wanted:
            return []
        if self.status != PartnerStatus.ACTIVE:
            return [f"organisation is {self.status}"]
        reasons = []
        if self.assigned_level < wanted:
            reasons.append(f"assigned level is {self.assigned_level.label}")
        if self.contract_cap < wanted:
            reasons.append(f"contracts unsigned or expired: capped at {self.contract_cap.label}")
        if self.jurisdiction_cap < wanted:
            reasons.append(f"jurisdiction policy caps at {self.jurisdiction_cap.label}")
        if self.enforcement_cap < wanted:
            reasons.append(f"enforcement action caps at {self.enforcement_cap.label}")
        return reasons


def _facts(
    *,
    status: str,
    assigned_level: int,
    country: str,
    versions: Iterable[ContractVersion],
    agreements: Iterable[SignedAgreement],
    policies: Iterable[JurisdictionPolicy],
    actions: Iterable[EnforcementAction],
    at: datetime,
) -> EntitlementFacts:
    """The rule applied to one partner's facts, however they were read."""
    caps = {
        "contract_cap": contract_cap(versions=versions, agreements=agreements, at=at),
        "jurisdiction_cap": jurisdiction_cap(policies=policies, country=country, at=at),
        "enforcement_cap": enforcement_cap(actions=actions, at=at),
    }
    return EntitlementFacts(
        status=status,
        assigned_level=AccessLevel(assigned_level),
        level=compute_effective_level(status=status, assigned_level=assigned_level, **caps),
        **caps,
    )


def entitlement_facts(
    partners: models.QuerySet, at: datetime, *, extra_policies: Iterable[JurisdictionPolicy] = ()
) -> dict[int, EntitlementFacts]:
    """The rule's inputs and result at `at` for every partner in the queryset, in five queries whatever their
    number. `effective_levels` is this without the explanation. `extra_policies` (unsaved) are counted as if
    stored: what a proposed jurisdiction policy would change (`effective_levels_with_policy`)."""
    partner_rows = list(partners.values("pk", "status", "assigned_level", "country"))
    partner_ids = partners.values("pk")
    versions = list(ContractVersion.objects.filter(effective_at__lte=at))
    agreements_by_partner: dict[int, list[SignedAgreement]] = defaultdict(list)
    for row in Agreement.objects.filter(partner__in=partner_ids, signed_at__lte=at, valid_until__gt=at).values(
        "partner_id",
        "contract_version__contract_key",
        "contract_version__version",
        "signed_at",
        "valid_until",
    ):
        agreements_by_partner[row["partner_id"]].append(
            SignedAgreement(
                contract_key=row["contract_version__contract_key"],
                version=row["contract_version__version"],
                signed_at=row["signed_at"],
                valid_until=row["valid_until"],
            )
        )
    policies = list(JurisdictionPolicy.objects.filter(effective_at__lte=at)) + list(extra_policies)
    actions_by_partner: dict[int, list[EnforcementAction]] = defaultdict(list)
    for action in EnforcementAction.objects.filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=at),
        partner__in=partner_ids,
        kind=EnforcementKind.LEVEL_CAP,
        starts_at__lte=at,
    ):
        actions_by_partner[action.partner_id].append(action)
    return {
        row["pk"]: _facts(
            status=row["status"],
            assigned_level=row["assigned_level"],
            country=row["country"],
            versions=versions,
            agreements=agreements_by_partner[row["pk"]],
            policies=policies,
            actions=actions_by_partner[row["pk"]],
            at=at,
        )
        for row in partner_rows
    }


def _facts_of_row(row: models.Model, partner: Partner) -> EntitlementFacts:
    """The facts a `with_entitlement_facts` row carries, through the rule."""
    return _facts(
        status=partner.status,
        assigned_level=partner.assigned_level,
        country=partner.country,
        versions=[ContractVersion(**fields) for fields in json_rows(row.entitlement_versions)],
        agreements=[SignedAgreement(**fields) for fields in json_rows(row.entitlement_agreements)],
        policies=[JurisdictionPolicy(**fields) for fields in json_rows(row.entitlement_policies)],
        actions=[EnforcementAction(**fields) for fields in json_rows(row.entitlement_actions)],
        at=row.entitlement_at,
    )


def effective_levels(partners: models.QuerySet, at: datetime) -> dict[int, AccessLevel]:
    """Effective level at `at` of every partner in the queryset, in five queries whatever their number."""
    return {pk: facts.level for pk, facts in entitlement_facts(partners, at).items()}


def effective_levels_with_policy(
    partners: models.QuerySet, at: datetime, *, policy: JurisdictionPolicy
) -> dict[int, AccessLevel]:
    """Effective level at `at` of every partner in the queryset if the unsaved `policy` were stored too: the same
    rule, applied to a hypothetical policy (the preview before a compliance officer saves one)."""
    return {pk: facts.level for pk, facts in entitlement_facts(partners, at, extra_policies=[policy]).items()}


def effective_level(partner: Partner, at: datetime | None = None) -> AccessLevel:
    """The partner's effective level at `at` (default: now), read from the stored facts, status included, in one
    query."""
    row = with_entitlement_facts(Partner.objects.filter(pk=partner.pk), partner="", at=at).first()
    return AccessLevel.NONE if row is None else _facts_of_row(row, row).level


# The organisation acting, at its level -------------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerAccess:
    """Who acts for which organisation, at which effective level; `api_token` is set when acting through the API
    (the membership is then that of the token's creator)."""

    membership: PartnerMembership
    level: AccessLevel
    api_token: ApiToken | None = None

    @property
    def user(self):
        return self.membership.user

    @property
    def partner(self) -> Partner:
        return self.membership.partner


def partner_access(user, at: datetime | None = None) -> PartnerAccess | None:
    """The user's organisation and its effective level now; None for anyone who is not an active member of a
    partner organisation (anonymous, inactive, staff). The level is `none` while the organisation may see nothing
    (suspended, removed, unsigned, capped to none)."""
    if not user.is_authenticated or not user.is_active or user.is_staff:
        return None
    clock = embargo_now_expression()
    if at is None and isinstance(clock, Value):  # the process's clock: a value of the query like `at`
        at = clock.value
    values = {"user_id": user.pk} if at is None else {"user_id": user.pk, "at": at}
    rows = _ACTIVE_MEMBERSHIP.rows(**values)
    if not rows:
        return None
    membership_end = len(_MEMBERSHIP_FIELDS)
    partner_end = membership_end + len(_PARTNER_FIELDS)
    row = rows[0]
    membership = PartnerMembership.from_db("default", _MEMBERSHIP_FIELDS, row[:membership_end])
    membership.partner = Partner.from_db("default", _PARTNER_FIELDS, row[membership_end:partner_end])
    membership.user = user  # the row it was read by
    for name, value in zip(_FACT_COLUMNS, row[partner_end:], strict=True):
        setattr(membership, name, value)
    return PartnerAccess(membership=membership, level=_facts_of_row(membership, membership.partner).level)


_MEMBERSHIP_FIELDS = [field.attname for field in PartnerMembership._meta.concrete_fields]
_PARTNER_FIELDS = [field.attname for field in Partner._meta.concrete_fields]
_FACT_COLUMNS = (
    "entitlement_at",
    "entitlement_versions",
    "entitlement_agreements",
    "entitlement_policies",
    "entitlement_actions",
)
# Read on every partner page: compiled once (core.compiled_queries), the membership, its partner and the facts.
_ACTIVE_MEMBERSHIP = CompiledQuery(
    lambda user_id, at=None: (
        with_entitlement_facts(
            PartnerMembership.objects.filter(user_id=user_id, is_active=True), partner="partner", at=at
        )
        .values_list(*_MEMBERSHIP_FIELDS, *(f"partner__{name}" for name in _PARTNER_FIELDS), *_FACT_COLUMNS)
        .order_by("pk")[:1]
    )
)


def token_access(token: ApiToken, at: datetime | None = None) -> PartnerAccess | None:
    """What an API token may see: exactly what its organisation's users see in the portal. None (refused) when the
    token is revoked or expired, when the partner admin who created it is no longer an active member of the token's
    organisation, or when the organisation is removed; the level is `none` while the organisation may see nothing
    (suspended, unsigned, capped to none), as for its users."""
    creator = token.created_by
    if not creator.is_active or creator.is_staff:
        return None
    membership = with_entitlement_facts(
        PartnerMembership.objects.select_related("partner", "user").filter(
            user=creator, partner_id=token.partner_id, is_active=True
        ),
        partner="partner",
        at=at,
    ).first()
    if membership is None or membership.partner.status == PartnerStatus.REMOVED:
        return None
    if not token.is_usable_at(membership.entitlement_at):
        return None
    level = _facts_of_row(membership, membership.partner).level
    return PartnerAccess(membership=membership, level=level, api_token=token)
