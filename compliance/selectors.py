"""Reads about contracts and agreements. What an agreement is worth is decided by the entitlement rule
(`compliance.entitlements`); these selectors only describe it, with the same functions."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Prefetch, QuerySet

from compliance.entitlements import SignedAgreement, covered_until, covering_agreement, current_versions
from compliance.models import (
    Agreement,
    Appeal,
    AppealStatus,
    ComplianceReview,
    ContractVersion,
    EnforcementAction,
    EnforcementKind,
    JurisdictionPolicy,
    ReviewStatus,
    Violation,
    ViolationNote,
    ViolationStatus,
)
from partners.models import Partner, PartnerStatus

UPCOMING_EXPIRY_WINDOW = timedelta(days=30)


class Standing:
    SIGNED = "signed"
    PREVIOUS_VERSION = "previous_version"
    MISSING = "missing"
    NOT_REQUIRED = "not_required"


@dataclass(frozen=True)
class ContractStanding:
    """Where one organisation stands with the current version of one contract at one instant."""

    version: ContractVersion
    required: bool
    state: str
    agreement_id: int | None = None
    signed_version: int | None = None
    covered_until: datetime | None = None
    expiring_soon: bool = False


@dataclass
class PartnerContracts:
    partner: Partner
    standings: list[ContractStanding] = field(default_factory=list)

    @property
    def missing(self) -> list[ContractStanding]:
        return [s for s in self.standings if s.state == Standing.MISSING]

    @property
    def expiring(self) -> list[ContractStanding]:
        return [s for s in self.standings if s.expiring_soon]


def contract_versions_overview() -> QuerySet[ContractVersion]:
    """Every published version, newest first within each contract, with how many agreements it holds."""
    return ContractVersion.objects.annotate(agreement_count=Count("agreements")).order_by("contract_key", "-version")


def current_contract_versions(at: datetime) -> dict[str, ContractVersion]:
    """The version of each contract in force at `at`, by contract key."""
    return current_versions(ContractVersion.objects.filter(effective_at__lte=at), at)


def _signed(agreement: Agreement) -> SignedAgreement:
    return SignedAgreement(
        contract_key=agreement.contract_version.contract_key,
        version=agreement.contract_version.version,
        signed_at=agreement.signed_at,
        valid_until=agreement.valid_until,
        agreement_id=agreement.pk,
    )


def _standing(
    *, version: ContractVersion, assigned_level: int, agreements: list[SignedAgreement], at: datetime
) -> ContractStanding:
    required = version.required_from_level <= assigned_level
    covering = covering_agreement(required=version, agreements=agreements, at=at)
    if covering is None:
        return ContractStanding(
            version=version, required=required, state=Standing.MISSING if required else Standing.NOT_REQUIRED
        )
    until = covered_until(required=version, agreement=covering)
    return ContractStanding(
        version=version,
        required=required,
        state=Standing.SIGNED if covering.version == version.version else Standing.PREVIOUS_VERSION,
        agreement_id=covering.agreement_id,
        signed_version=covering.version,
        covered_until=until,
        expiring_soon=until <= at + UPCOMING_EXPIRY_WINDOW,
    )


def signing_overview(*, at: datetime, partners: QuerySet[Partner] | None = None) -> list[PartnerContracts]:
    """For each organisation not removed (or those given), its standing with every contract in force at `at`:
    signed (until when), held through a previous version until the re-sign deadline, missing although its
    assigned level requires it, or not required. Three queries whatever the numbers."""
    if partners is None:
        partners = Partner.objects.exclude(status=PartnerStatus.REMOVED)
    partners = list(partners.order_by("legal_name"))
    versions = sorted(current_contract_versions(at).values(), key=lambda v: (v.required_from_level, v.contract_key))
    agreements: dict[int, list[SignedAgreement]] = defaultdict(list)
    for agreement in Agreement.objects.filter(
        partner__in=[p.pk for p in partners], signed_at__lte=at, valid_until__gt=at
    ).select_related("contract_version"):
        agreements[agreement.partner_id].append(_signed(agreement))
    return [
        PartnerContracts(
            partner=partner,
            standings=[
                _standing(version=v, assigned_level=partner.assigned_level, agreements=agreements[partner.pk], at=at)
                for v in versions
            ],
        )
        for partner in partners
    ]


def agreements_of_partner(*, partner: Partner) -> QuerySet[Agreement]:
    """Every agreement the organisation signed, newest first, with its version and signer."""
    return Agreement.objects.filter(partner=partner).select_related("contract_version", "signed_by")


def partner_agreement_or_none(*, partner: Partner, agreement_id: int) -> Agreement | None:
    """One of the organisation's own agreements; None for any other (the view answers 404)."""
    return (
        Agreement.objects.select_related("partner", "contract_version", "signed_by")
        .filter(partner=partner, pk=agreement_id)
        .first()
    )


def agreement_record(*, agreement_id: int) -> Agreement | None:
    return Agreement.objects.select_related("partner", "contract_version", "signed_by").filter(pk=agreement_id).first()


def version_in_effect_or_none(*, version_id: int, at: datetime) -> ContractVersion | None:
    """A contract version that has taken effect by `at` (current or superseded); None otherwise."""
    return ContractVersion.objects.filter(pk=version_id, effective_at__lte=at).first()


def is_superseded(version: ContractVersion, at: datetime) -> bool:
    """Whether a newer version of the same contract is in force at `at` (only the current one can be signed)."""
    return ContractVersion.objects.filter(
        contract_key=version.contract_key, version__gt=version.version, effective_at__lte=at
    ).exists()


# Violations, enforcement, appeals, policies, reviews -------------------------------------------------------------


def violation_queue(*, status: str = "") -> QuerySet[Violation]:
    """Violations, newest first, with their organisation; one query for a page."""
    violations = Violation.objects.select_related("partner", "reported_by")
    return violations.filter(status=status) if status else violations


def violation_record(*, violation_id: int) -> Violation | None:
    """One violation with its notes, evidence files, and enforcement actions (with their appeals)."""
    return (
        Violation.objects.select_related("partner", "reported_by")
        .prefetch_related(
            Prefetch("notes", queryset=ViolationNote.objects.select_related("author")),
            "evidence_files",
            Prefetch(
                "enforcement_actions",
                queryset=EnforcementAction.objects.select_related("created_by").prefetch_related("appeals"),
            ),
        )
        .filter(pk=violation_id)
        .first()
    )


def appeal_queue(*, status: str = AppealStatus.FILED) -> QuerySet[Appeal]:
    """Appeals (pending by default), oldest first, with the action and organisation."""
    appeals = Appeal.objects.select_related("action__partner", "action__violation", "filed_by", "decided_by")
    return (appeals.filter(status=status) if status else appeals).order_by("filed_at")


def appeal_record(*, appeal_id: int) -> Appeal | None:
    return appeal_queue(status="").filter(pk=appeal_id).first()


def jurisdiction_policies() -> QuerySet[JurisdictionPolicy]:
    """Every policy version, by country, newest first, with how many organisations it changed."""
    return (
        JurisdictionPolicy.objects.select_related("created_by")
        .annotate(changed=Count("level_changes"))
        .order_by("country", "-effective_at")
    )


def open_reviews() -> QuerySet[ComplianceReview]:
    return ComplianceReview.objects.filter(status=ReviewStatus.OPEN).select_related("partner").order_by("due_at")


def overdue_reviews(*, at: datetime) -> QuerySet[ComplianceReview]:
    """Open reviews not completed within the grace period after they fell due, most overdue first."""
    return open_reviews().filter(due_at__lt=at - timedelta(days=settings.COMPLIANCE_REVIEW_GRACE_DAYS))


def completed_reviews() -> QuerySet[ComplianceReview]:
    return (
        ComplianceReview.objects.filter(status=ReviewStatus.COMPLETED)
        .select_related("partner", "reviewer")
        .order_by("-completed_at")
    )


def review_record(*, review_id: int) -> ComplianceReview | None:
    return ComplianceReview.objects.select_related("partner", "reviewer").filter(pk=review_id).first()


def enforcement_actions_of_partner(*, partner: Partner) -> QuerySet[EnforcementAction]:
    """What the program did about an organisation, newest first, with its appeals: the partner admins' page."""
    return EnforcementAction.objects.filter(partner=partner).prefetch_related("appeals").order_by("-starts_at")


def partner_enforcement_action_or_none(*, partner: Partner, action_id: int) -> EnforcementAction | None:
    return EnforcementAction.objects.filter(partner=partner, pk=action_id).first()


# Which transition of the organisation's state machine each enforcement kind drives.
PARTNER_MOVES = {
    EnforcementKind.SUSPENSION: "suspend",
    EnforcementKind.REMOVAL: "remove",
    EnforcementKind.REINSTATEMENT: "reinstate",
}
PUNITIVE_MOVES = (EnforcementKind.SUSPENSION, EnforcementKind.REMOVAL)


def available_violation_transitions(violation: Violation) -> list[str]:
    """The violation's next steps its state machine allows now (transition names, in the model's order)."""
    return [transition.name for transition in violation.get_available_status_transitions()]


def available_enforcement_kinds(violation: Violation) -> list[str]:
    """The enforcement actions the services would accept now for this violation: warnings, caps, suspension and
    removal follow a substantiated violation, suspension and removal only where the organisation's state machine
    allows them, reinstatement only for a suspended organisation; nothing against a removed one."""
    partner = violation.partner
    moves = {transition.name for transition in partner.get_available_status_transitions()}
    kinds = set()
    if partner.status != PartnerStatus.REMOVED and violation.status == ViolationStatus.SUBSTANTIATED:
        kinds |= {EnforcementKind.WARNING, EnforcementKind.LEVEL_CAP}
        kinds |= {kind for kind in PUNITIVE_MOVES if PARTNER_MOVES[kind] in moves}
    if "reinstate" in moves:
        kinds.add(EnforcementKind.REINSTATEMENT)
    return [kind for kind in EnforcementKind.values if kind in kinds]
