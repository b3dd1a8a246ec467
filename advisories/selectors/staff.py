"""Queries of the staff pages about advisories: lists with the need-to-know rule, release previews and progress,
the calendar, the handling record."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    Count,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.utils import timezone

from advisories.models import (
    Advisory,
    AdvisoryStatus,
    AdvisoryUserObjectPermission,
    Delivery,
    DownloadEvent,
    HandlingAcknowledgement,
    Notice,
    NoticeKind,
    ReleaseWave,
    WaveStatus,
)
from advisories.need_to_know import visible_advisory_ids, with_content_visible
from compliance.entitlements import entitlement_facts
from core.levels import AccessLevel
from partners.models import Partner, PartnerStatus


def advisories_for_staff(*, user, search: str = "") -> QuerySet[Advisory]:
    """Every advisory, annotated with `content_visible` for the user (need-to-know, `advisories.need_to_know`),
    newest public release first. Templates show the title only where it is true; a search by CVE id finds only
    advisories whose content the user may see (a CVE id names the flaw)."""
    queryset = with_content_visible(Advisory.objects.all(), user)
    search = search.strip()
    if search:
        queryset = queryset.filter(
            Q(identifier__icontains=search) | (Q(cve_records__cve_id__icontains=search) & Q(content_visible=True))
        ).distinct()
    return queryset


def assigned_managers(advisory: Advisory) -> list:
    return [
        row.user
        for row in AdvisoryUserObjectPermission.objects.filter(
            content_object=advisory, permission__codename="edit_advisory"
        ).select_related("user")
    ]


@dataclass(frozen=True)
class PreviewRow:
    partner: Partner
    level: AccessLevel
    receives: bool
    reasons: list[str]


def release_preview(*, wave: ReleaseWave, at: datetime | None = None) -> list[PreviewRow]:
    """Which organisations would receive the wave if it released at `at` (default now), and why each other one
    would not: the same entitlement facts and the same "already holds it" rule the release uses. Removed
    organisations are left out. A fixed number of queries whatever the number of partners."""
    at = at or timezone.now()
    partners = Partner.objects.exclude(status=PartnerStatus.REMOVED)
    facts = entitlement_facts(partners, at)
    holding = dict(
        Delivery.objects.filter(advisory_id=wave.advisory_id, level__gte=wave.level)
        .values_list("partner_id")
        .annotate(level=Max("level"))
    )
    rows = []
    for partner in partners.order_by("legal_name"):
        partner_facts = facts[partner.pk]
        reasons = partner_facts.reasons_below(wave.level)
        if partner.pk in holding:
            reasons = [f"already holds the {AccessLevel(holding[partner.pk]).label} delivery"]
        rows.append(PreviewRow(partner, partner_facts.level, receives=not reasons, reasons=reasons))
    return rows


def wave_deliveries(*, wave: ReleaseWave) -> QuerySet[Delivery]:
    """The wave's deliveries with their organisation, and when and by whom each was first opened."""
    first = DownloadEvent.objects.filter(delivery=OuterRef("pk")).order_by("created_at", "id")
    return (
        Delivery.objects.filter(wave=wave)
        .select_related("partner")
        .annotate(
            first_access_at=Subquery(first.values("created_at")[:1]),
            first_access_by=Subquery(first.values("user__email")[:1]),
            accesses=Count("download_events"),
        )
        .order_by("partner__legal_name")
    )


def wave_progress(*, wave: ReleaseWave) -> dict[str, int]:
    """How far the wave's fan-out has come: deliveries, organisations notified, inbox notices, emails sent."""
    deliveries = Delivery.objects.filter(wave=wave).aggregate(
        total=Count("id"), notified=Count("id", filter=Q(notified_at__isnull=False))
    )
    notices = Notice.objects.filter(wave=wave, kind=NoticeKind.RELEASED).aggregate(
        total=Count("id"),
        emailed=Count("id", filter=Q(emailed_at__isnull=False)),
        read=Count("id", filter=Q(read_at__isnull=False)),
    )
    return {
        "deliveries": deliveries["total"],
        "notified": deliveries["notified"],
        "notices": notices["total"],
        "emailed": notices["emailed"],
        "read": notices["read"],
        "opened": Delivery.objects.filter(wave=wave, download_events__isnull=False).distinct().count(),
    }


def waves_between(*, start: datetime, end: datetime) -> QuerySet[ReleaseWave]:
    """Scheduled and released waves of advisories not withdrawn, from `start` (inclusive) to `end` (exclusive),
    in time order. The generic wave is the public release."""
    return (
        ReleaseWave.objects.filter(
            scheduled_at__gte=start,
            scheduled_at__lt=end,
            status__in=[WaveStatus.SCHEDULED, WaveStatus.RELEASED],
        )
        .exclude(advisory__status=AdvisoryStatus.WITHDRAWN)
        .select_related("advisory")
        .order_by("scheduled_at", "-level")
    )


def upcoming_waves(*, now: datetime | None = None) -> QuerySet[ReleaseWave]:
    return (
        ReleaseWave.objects.filter(status=WaveStatus.SCHEDULED, scheduled_at__gte=now or timezone.now())
        .exclude(advisory__status=AdvisoryStatus.WITHDRAWN)
        .select_related("advisory")
        .order_by("scheduled_at", "-level")
    )


def content_visible_advisory_ids(user, advisories) -> set[int]:
    """Of these advisories, the ones whose content the user may see, in one query (`advisories.need_to_know`)."""
    return visible_advisory_ids(user, advisories)


def handling_acknowledgements(*, advisory: Advisory) -> QuerySet[HandlingAcknowledgement]:
    """Who acknowledged the advisory's handling terms, when and from where: part of its distribution record."""
    return HandlingAcknowledgement.objects.filter(advisory=advisory).select_related("user", "partner")
