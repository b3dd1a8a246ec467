"""Reads for protection statuses, indicators and coverage: the partner's own records, and the program's figures
per advisory and per organisation (a fixed number of queries whatever the number of organisations)."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Max, Min, QuerySet
from django.utils import timezone

from advisories.access import get_released_object_or_404, partners_holding
from advisories.models import (
    Advisory,
    AdvisoryStatus,
    Delivery,
    PartnerIndicator,
    ProtectionFeedback,
    ProtectionState,
    ProtectionStatus,
)
from compliance.entitlements import PartnerAccess
from core.levels import AccessLevel
from partners.models import Partner

RECORD_PERIOD = timedelta(days=365)


def reportable_advisory_for_partner(*, access: PartnerAccess | None, identifier: str) -> Advisory:
    """The advisory if the organisation received it and may still see it (not withdrawn); 404 otherwise."""
    return get_released_object_or_404(
        Advisory.objects.exclude(status=AdvisoryStatus.WITHDRAWN), access, identifier=identifier
    )


def protection_status_for_partner(*, access: PartnerAccess, advisory: Advisory) -> ProtectionStatus:
    """The organisation's status for the advisory; an unsaved `not started` one when it has not reported yet."""
    status = ProtectionStatus.objects.filter(advisory=advisory, partner=access.partner).first()
    return status or ProtectionStatus(advisory=advisory, partner=access.partner)


def next_protection_states(status: ProtectionStatus) -> list[str]:
    """The states the status may move to now (the model's transitions), in display order."""
    targets = {t.target for t in status.get_available_state_transitions()}
    return [state for state in ProtectionState.values if state in targets]


def indicators_for_partner(*, access: PartnerAccess, advisory: Advisory) -> QuerySet[PartnerIndicator]:
    """The indicators the organisation itself submitted for the advisory."""
    return PartnerIndicator.objects.filter(advisory=advisory, partner=access.partner).select_related("submitted_by")


def feedback_for_partner(*, access: PartnerAccess, advisory: Advisory) -> QuerySet[ProtectionFeedback]:
    return ProtectionFeedback.objects.filter(advisory=advisory, partner=access.partner).select_related("submitted_by")


# Program staff -----------------------------------------------------------------------------------------------------


def indicators_for_advisory(*, advisory: Advisory) -> QuerySet[PartnerIndicator]:
    """Every indicator partners submitted for the advisory, earliest first seen first (for managers and leak
    investigations)."""
    return PartnerIndicator.objects.filter(advisory=advisory).select_related("partner", "submitted_by", "api_token")


def feedback_for_advisory(*, advisory: Advisory) -> QuerySet[ProtectionFeedback]:
    return ProtectionFeedback.objects.filter(advisory=advisory).select_related("partner", "submitted_by")


@dataclass(frozen=True)
class CoverageRow:
    partner: Partner
    first_delivered_at: datetime
    level: AccessLevel
    holds_access_now: bool
    state: str
    shipped_at: datetime | None
    products: str
    signature_ids: str
    shipped_before_release: bool

    @property
    def state_label(self) -> str:
        return ProtectionState(self.state).label


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    what: str
    partner: Partner | None
    shipped_so_far: int


@dataclass
class AdvisoryCoverage:
    advisory: Advisory
    rows: list[CoverageRow]
    timeline: list[TimelineEntry]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def receiving(self) -> int:
        return len(self.rows)

    @property
    def shipped_before_release(self) -> int:
        return sum(row.shipped_before_release for row in self.rows)


def advisory_coverage(*, advisory: Advisory, at: datetime | None = None) -> AdvisoryCoverage:
    """Per receiving organisation (every one with a delivery of the advisory): when it first received it, at
    which level, whether it may still see it, its reported status and whether it shipped before the public
    release; the counts by state; and a timeline of deliveries, shipments and the public release with the number
    shipped so far. A fixed number of queries whatever the number of organisations."""
    at = at or timezone.now()
    deliveries = list(
        Delivery.objects.filter(advisory=advisory)
        .values("partner_id")
        .annotate(first_delivered_at=Min("delivered_at"), level=Max("level"))
    )
    partners = Partner.objects.in_bulk([row["partner_id"] for row in deliveries])
    statuses = {status.partner_id: status for status in ProtectionStatus.objects.filter(advisory=advisory)}
    holding = partners_holding(advisory, at) if deliveries else {}
    release = advisory.public_release_at
    rows = []
    for delivery in deliveries:
        status = statuses.get(delivery["partner_id"])
        state = status.state if status else ProtectionState.NOT_STARTED
        shipped_at = status.shipped_at if status and state == ProtectionState.SHIPPED else None
        rows.append(
            CoverageRow(
                partner=partners[delivery["partner_id"]],
                first_delivered_at=delivery["first_delivered_at"],
                level=AccessLevel(delivery["level"]),
                holds_access_now=delivery["partner_id"] in holding,
                state=state,
                shipped_at=shipped_at,
                products=status.products if status else "",
                signature_ids=status.signature_ids if status else "",
                shipped_before_release=shipped_at is not None and shipped_at <= release,
            )
        )
    rows.sort(key=lambda row: row.partner.legal_name.lower())
    counts = dict.fromkeys(ProtectionState.values, 0)
    for row in rows:
        counts[row.state] += 1

    events = [(row.first_delivered_at, 0, f"received ({row.level.label})", row.partner) for row in rows]
    events += [(row.shipped_at, 1, "shipped protection", row.partner) for row in rows if row.shipped_at]
    events.append((release, 2, "public release", None))
    timeline, shipped = [], 0
    for when, order, what, partner in sorted(events, key=lambda e: (e[0], e[1], e[3].legal_name if e[3] else "")):
        shipped += order == 1
        timeline.append(TimelineEntry(at=when, what=what, partner=partner, shipped_so_far=shipped))
    return AdvisoryCoverage(advisory=advisory, rows=rows, timeline=timeline, counts=counts)


class Outcome:
    ON_TIME = "on time"
    LATE = "late"
    NEVER = "never"
    NOT_APPLICABLE = "not applicable"


@dataclass(frozen=True)
class RecordRow:
    advisory: Advisory
    delivered_at: datetime
    state: str
    shipped_at: datetime | None
    outcome: str

    @property
    def state_label(self) -> str:
        return ProtectionState(self.state).label


@dataclass
class PartnerProtectionRecord:
    partner: Partner
    since: datetime
    until: datetime
    rows: list[RecordRow]

    def count(self, outcome: str) -> int:
        return sum(row.outcome == outcome for row in self.rows)

    @property
    def on_time(self) -> int:
        return self.count(Outcome.ON_TIME)

    @property
    def late(self) -> int:
        return self.count(Outcome.LATE)

    @property
    def never(self) -> int:
        return self.count(Outcome.NEVER)

    @property
    def not_applicable(self) -> int:
        return self.count(Outcome.NOT_APPLICABLE)


def _outcome(state: str, shipped_at: datetime | None, public_release_at: datetime) -> str:
    if state == ProtectionState.SHIPPED:
        return Outcome.ON_TIME if shipped_at <= public_release_at else Outcome.LATE
    if state == ProtectionState.NOT_APPLICABLE:
        return Outcome.NOT_APPLICABLE
    return Outcome.NEVER


def partner_protection_record(*, partner: Partner, now: datetime | None = None) -> PartnerProtectionRecord:
    """The organisation's record over the last twelve months, for periodic reviews: every advisory it received
    whose public release fell in that period (withdrawn ones left out), and whether it shipped a protection by
    the public release (on time), after it (late), never, or reported it not applicable. Three queries."""
    now = now or timezone.now()
    since = now - RECORD_PERIOD
    received = (
        Delivery.objects.filter(
            partner=partner, advisory__public_release_at__gte=since, advisory__public_release_at__lte=now
        )
        .exclude(advisory__status=AdvisoryStatus.WITHDRAWN)
        .values("advisory_id")
        .annotate(delivered_at=Min("delivered_at"))
    )
    delivered = {row["advisory_id"]: row["delivered_at"] for row in received}
    advisories = Advisory.objects.filter(pk__in=delivered).order_by("-public_release_at", "-id")
    statuses = {
        status.advisory_id: status
        for status in ProtectionStatus.objects.filter(partner=partner, advisory_id__in=delivered)
    }
    rows = []
    for advisory in advisories:
        status = statuses.get(advisory.pk)
        state = status.state if status else ProtectionState.NOT_STARTED
        shipped_at = status.shipped_at if status else None
        rows.append(
            RecordRow(
                advisory=advisory,
                delivered_at=delivered[advisory.pk],
                state=state,
                shipped_at=shipped_at,
                outcome=_outcome(state, shipped_at, advisory.public_release_at),
            )
        )
    return PartnerProtectionRecord(partner=partner, since=since, until=now, rows=rows)
