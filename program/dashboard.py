"""Reads for the manager dashboard: every figure comes from the database at one instant, in a fixed number of
queries whatever the number of partners (effective levels are evaluated in bulk by the entitlement rule)."""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count
from django.db.models.functions import TruncDate
from django_countries import countries

from advisories.models import DownloadEvent
from advisories.selectors import content_visible_advisory_ids, due_unreleased_waves, leak_incidents, waves_between
from advisories.tasks import RELEASE_HEARTBEAT
from compliance.entitlements import effective_levels
from compliance.models import Violation, ViolationStatus
from compliance.selectors import overdue_reviews, signing_overview
from core.levels import AccessLevel
from core.selectors import last_heartbeat
from partners.models import Partner, PartnerStatus

HORIZON = timedelta(days=30)
DOWNLOAD_WINDOW_DAYS = 30
TOP_ADVISORIES = 8
TOP_COUNTRIES = 10
# The release task runs every few seconds: silence for longer than this means beat or the workers are down.
RELEASE_TICK_STALE_AFTER = timedelta(minutes=2)
DUE_WAVE_LATE_AFTER = timedelta(minutes=1)


def partners_by_status() -> list[tuple[str, int]]:
    counts = dict(Partner.objects.values_list("status").annotate(n=Count("id")))
    return [(label, counts.get(value, 0)) for value, label in PartnerStatus.choices]


def partners_by_effective_level(at: datetime) -> list[tuple[str, int]]:
    """Organisations not removed, by the level the entitlement rule gives them at `at`."""
    levels = Counter(effective_levels(Partner.objects.exclude(status=PartnerStatus.REMOVED), at).values())
    return [(level.label, levels.get(level, 0)) for level in AccessLevel]


def partners_by_country(limit: int = TOP_COUNTRIES) -> list[tuple[str, int]]:
    """Organisations not removed, by country, the largest first; the rest summed as "Other countries"."""
    rows = list(
        Partner.objects.exclude(status=PartnerStatus.REMOVED)
        .values_list("country")
        .annotate(n=Count("id"))
        .order_by("-n", "country")
    )
    shown = [(countries.name(code) or code, n) for code, n in rows[:limit]]
    rest = sum(n for _, n in rows[limit:])
    return shown + [("Other countries", rest)] if rest else shown


@dataclass(frozen=True)
class UpcomingWave:
    wave: object
    title_visible: bool
    is_public_release: bool


def upcoming_releases(*, user, at: datetime) -> list[UpcomingWave]:
    """The waves and public releases (generic waves) of the next 30 days; titles only where need-to-know allows."""
    waves = list(waves_between(start=at, end=at + HORIZON))
    visible = content_visible_advisory_ids(user, [wave.advisory for wave in waves])
    return [UpcomingWave(wave, wave.advisory_id in visible, wave.level == AccessLevel.GENERIC) for wave in waves]


@dataclass(frozen=True)
class DownloadSeries:
    identifier: str
    total: int
    daily: list[int]


def downloads_per_advisory(*, at: datetime, days: int = DOWNLOAD_WINDOW_DAYS, limit: int = TOP_ADVISORIES):
    """Views and downloads per advisory per UTC day over the last `days` days (today included), for the advisories
    with the most; returns (first day, series)."""
    first_day: date = (at - timedelta(days=days - 1)).date()
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=at.tzinfo)
    rows = (
        DownloadEvent.objects.filter(created_at__gte=start, created_at__lte=at)
        .annotate(day=TruncDate("created_at"))
        .values_list("advisory__identifier", "day")
        .annotate(n=Count("id"))
    )
    per_advisory: dict[str, list[int]] = {}
    for identifier, day, n in rows:
        series = per_advisory.setdefault(identifier, [0] * days)
        series[(day - first_day).days] += n
    ranked = sorted(per_advisory.items(), key=lambda item: (-sum(item[1]), item[0]))[:limit]
    return first_day, [DownloadSeries(identifier, sum(daily), daily) for identifier, daily in ranked]


@dataclass(frozen=True)
class ExpiringAgreement:
    partner: Partner
    contract: str
    covered_until: datetime


def expiring_agreements(at: datetime) -> list[ExpiringAgreement]:
    """Required contracts whose cover ends within the compliance window (30 days), soonest first."""
    rows = [
        ExpiringAgreement(overview.partner, standing.version.title, standing.covered_until)
        for overview in signing_overview(at=at, partners=Partner.objects.filter(status=PartnerStatus.ACTIVE))
        for standing in overview.expiring
        if standing.required
    ]
    return sorted(rows, key=lambda row: (row.covered_until, row.partner.legal_name))


@dataclass(frozen=True)
class ReleasePipeline:
    last_tick_at: datetime | None
    due_waves: list
    late_waves: int
    stalled: bool


def release_pipeline(at: datetime) -> ReleasePipeline:
    """When the release task last ran and which due waves still wait for it: stalled when the task is silent, or
    when a due wave waits longer than a tick or two would take."""
    last_tick = last_heartbeat(RELEASE_HEARTBEAT)
    due = list(due_unreleased_waves(now=at))
    late = sum(1 for wave in due if wave.scheduled_at < at - DUE_WAVE_LATE_AFTER)
    silent = last_tick is None or last_tick < at - RELEASE_TICK_STALE_AFTER
    return ReleasePipeline(last_tick, due, late, stalled=silent or bool(late))


@dataclass(frozen=True)
class ComplianceWork:
    open_violations: list  # reported or under investigation, newest first
    open_violation_count: int
    recent_investigations: list  # leak investigations of the last 90 days, latest observation first
    overdue_reviews: list
    overdue_review_count: int


def compliance_work(at: datetime, limit: int = 5) -> ComplianceWork:
    """What needs a compliance officer now: open violations, recent leak investigations, overdue reviews."""
    open_violations = Violation.objects.filter(
        status__in=[ViolationStatus.REPORTED, ViolationStatus.INVESTIGATING]
    ).select_related("partner")
    overdue = overdue_reviews(at=at)
    investigations = leak_incidents().filter(observed_at__gte=at - timedelta(days=90))
    return ComplianceWork(
        open_violations=list(open_violations.order_by("-reported_at")[:limit]),
        open_violation_count=open_violations.count(),
        recent_investigations=list(investigations[:limit]),
        overdue_reviews=list(overdue[:limit]),
        overdue_review_count=overdue.count(),
    )
