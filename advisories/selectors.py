import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from advisories.access import get_released_object_or_404, released_objects
from advisories.fingerprinting.tracing import TracedCopy, TraceResult, served_copies, trace_sample  # noqa: F401
from advisories.models import (
    SEVERITY_SCORE_RANGES,
    TLP,
    Advisory,
    AdvisoryDocument,
    AdvisoryStatus,
    AdvisoryUserObjectPermission,
    Artifact,
    Delivery,
    DownloadEvent,
    EmailMode,
    HandlingAcknowledgement,
    LeakIncident,
    Notice,
    NoticeKind,
    NoticePreference,
    PartnerIndicator,
    ReleaseCohort,
    ReleaseWave,
    Severity,
    WaveStatus,
)
from advisories.need_to_know import (  # noqa: F401 - the need-to-know rule, re-exported for pages and services
    can_view_content,
    is_assigned_manager,
    visible_advisory_ids,
    with_content_visible,
)
from compliance.entitlements import PartnerAccess, effective_levels, entitlement_facts
from compliance.models import JurisdictionPolicy, Violation, ViolationStatus
from compliance.selectors import Standing, signing_overview
from core.levels import LEVEL_MEANING, AccessLevel
from partners.models import ApiToken, MemberRole, Partner, PartnerMembership, PartnerStatus


def advisories_for_partner(*, access: PartnerAccess | None, search: str = "") -> QuerySet[Advisory]:
    """The advisories released to the organisation that it is still entitled to, most recently delivered first.
    A withdrawn advisory is never listed (its grants are revoked too).

    Each advisory is read through the organisation's highest-level delivery of it, which is also its latest (a
    partner receives another delivery of an advisory only at a higher level), so that the database walks the
    organisation's deliveries in index order: a page costs the same whatever the number of advisories."""
    queryset = released_objects(Advisory.objects.exclude(status=AdvisoryStatus.WITHDRAWN), access)
    if access is None:
        return queryset
    search = search.strip()
    if search:
        queryset = queryset.filter(
            Q(identifier__icontains=search) | Q(title__icontains=search) | Q(cve_ids__icontains=search)
        )
    partner_id = access.partner.pk
    higher_delivery = Delivery.objects.filter(
        partner_id=partner_id,
        advisory_id=OuterRef("deliveries__advisory_id"),
        level__gt=OuterRef("deliveries__level"),
    )
    return (
        queryset.filter(~Exists(higher_delivery), deliveries__partner_id=partner_id)
        .annotate(delivered_at=F("deliveries__delivered_at"))
        .order_by("-delivered_at", "-id")
    )


@dataclass(frozen=True)
class ListCursor:
    """A place in a list ordered by delivery, newest first: the delivery instant and the advisory id of one row.
    Its token (`<microseconds since the epoch>-<advisory id>`) is what the list's Newer and Older links carry; it
    only positions the list: every row still comes through the organisation's own filters."""

    delivered_at: datetime
    advisory_id: int

    @property
    def token(self) -> str:
        moment = self.delivered_at - EPOCH
        return f"{(moment.days * 86_400 + moment.seconds) * 1_000_000 + moment.microseconds}-{self.advisory_id}"

    @classmethod
    def from_token(cls, token: str) -> "ListCursor":
        """The cursor a token names; ValueError for anything that is not one (a cut or edited link)."""
        microseconds, separator, advisory_id = token.partition("-")
        if not (separator and microseconds.isascii() and microseconds.isdigit() and advisory_id.isascii()):
            raise ValueError("not a list position")
        # At most 17 digits (up to the year 5138): no overflow, and an id PostgreSQL's bigint holds.
        if not advisory_id.isdigit() or len(microseconds) > 17 or len(advisory_id) > 18:
            raise ValueError("not a list position")
        return cls(delivered_at=EPOCH + timedelta(microseconds=int(microseconds)), advisory_id=int(advisory_id))

    @classmethod
    def of(cls, advisory: Advisory) -> "ListCursor":
        return cls(delivered_at=advisory.delivered_at, advisory_id=advisory.pk)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ListPage:
    """One page of a list ordered by delivery, newest first, and the cursors of its neighbours (None at either
    end): no count of the whole list, so that a page costs the same at any depth."""

    object_list: list
    newer: ListCursor | None
    older: ListCursor | None

    def __iter__(self):
        return iter(self.object_list)

    def __getitem__(self, index):
        return self.object_list[index]

    def __len__(self):
        return len(self.object_list)


def delivery_list_page(
    queryset: QuerySet, *, size: int, before: ListCursor | None = None, after: ListCursor | None = None
) -> ListPage:
    """The page of `queryset` (rows annotated with `delivered_at`, listed newest first by it and then by id) just
    older than `before`, or just newer than `after`, or the newest page. One query (two when `after` reaches the
    newest rows: the newest page is shown then), which walks an index on the delivery instant from the cursor
    and reads `size` + 1 rows, whatever the depth."""
    if after is not None:
        rows = list(
            queryset.filter(
                Q(delivered_at__gt=after.delivered_at) | Q(delivered_at=after.delivered_at, id__gt=after.advisory_id),
                delivered_at__gte=after.delivered_at,
            ).order_by("delivered_at", "id")[: size + 1]
        )
        if len(rows) <= size:
            return delivery_list_page(queryset, size=size)
        rows = rows[:size][::-1]
        return ListPage(object_list=rows, newer=ListCursor.of(rows[0]), older=ListCursor.of(rows[-1]))
    if before is not None:
        queryset = queryset.filter(
            Q(delivered_at__lt=before.delivered_at) | Q(delivered_at=before.delivered_at, id__lt=before.advisory_id),
            delivered_at__lte=before.delivered_at,
        )
    rows = list(queryset.order_by("-delivered_at", "-id")[: size + 1])
    return ListPage(
        object_list=rows[:size],
        newer=ListCursor.of(rows[0]) if before is not None and rows else None,
        older=ListCursor.of(rows[size - 1]) if len(rows) > size else None,
    )


def advisory_list_page_for_partner(
    *,
    access: PartnerAccess,
    size: int,
    search: str = "",
    before: ListCursor | None = None,
    after: ListCursor | None = None,
) -> ListPage:
    """A page of `advisories_for_partner`, newest delivery first, older than `before` or newer than `after`."""
    return delivery_list_page(
        advisories_for_partner(access=access, search=search), size=size, before=before, after=after
    )


def _with_sync_dates(queryset: QuerySet[Advisory], access: PartnerAccess) -> QuerySet[Advisory]:
    """Annotate when the organisation first and last received each advisory, and `changed_at`: the last moment
    its copy changed (the advisory itself, a new delivery, or a description at its level), for incremental sync."""
    deliveries = Delivery.objects.filter(advisory=OuterRef("pk"), partner_id=access.partner.pk)
    latest_document = AdvisoryDocument.objects.filter(advisory=OuterRef("pk"), level__lte=access.level)
    delivered_at = Subquery(deliveries.order_by("-delivered_at").values("delivered_at")[:1])
    return queryset.annotate(
        first_delivered_at=Subquery(deliveries.order_by("delivered_at").values("delivered_at")[:1]),
        delivered_at=delivered_at,
        changed_at=Greatest(
            "updated_at",
            Coalesce(delivered_at, "updated_at"),
            Coalesce(Subquery(latest_document.order_by("-updated_at").values("updated_at")[:1]), "updated_at"),
            output_field=DateTimeField(),
        ),
    )


def advisories_for_partner_sync(
    *,
    access: PartnerAccess | None,
    updated_since: datetime | None = None,
    product: str = "",
    cve: str = "",
    severity: str = "",
) -> QuerySet[Advisory]:
    """The advisories released to the organisation that it is still entitled to (the portal's list), for the API:
    each annotated with `changed_at`, narrowed to those changed at or after `updated_since`, and filtered by
    affected product (substring), CVE id (exact) and CVSS severity. Withdrawn advisories are left out, as in the
    portal."""
    queryset = released_objects(Advisory.objects.exclude(status=AdvisoryStatus.WITHDRAWN), access)
    if access is None:
        return queryset
    queryset = _with_sync_dates(queryset, access)
    if updated_since is not None:
        queryset = queryset.filter(changed_at__gte=updated_since)
    if product:
        queryset = queryset.filter(affected_products__icontains=product)
    if cve:
        # JSON containment is not portable to SQLite: match the quoted id in the stored list instead.
        queryset = queryset.filter(cve_ids__icontains=f'"{cve}"')
    if severity:
        low, high = SEVERITY_SCORE_RANGES[Severity(severity)]
        queryset = queryset.filter(cvss_score__gte=low, cvss_score__lte=high)
    return queryset


def advisory_for_partner(*, access: PartnerAccess | None, identifier: str, reader=None) -> Advisory:
    """One advisory with the documents and artifacts the organisation may see, and its delivery dates for the
    organisation; 404 for anything else (a withdrawn advisory included). With a `reader`, also whether that user
    acknowledged its handling terms (`handling_acknowledged`), read in the same query."""
    queryset = Advisory.objects.exclude(status=AdvisoryStatus.WITHDRAWN)
    if access is not None:
        queryset = _with_sync_dates(queryset, access)
    if reader is not None:
        queryset = queryset.annotate(handling_acknowledged=_acknowledged_by(reader, advisory=OuterRef("pk")))
    return get_released_object_or_404(
        queryset.prefetch_related(
            Prefetch("documents", queryset=released_objects(AdvisoryDocument.objects.all(), access)),
            Prefetch("artifacts", queryset=released_objects(Artifact.objects.all(), access)),
        ),
        access,
        identifier=identifier,
    )


def artifact_for_partner(*, access: PartnerAccess | None, identifier: str, artifact_id: int, reader=None) -> Artifact:
    """One file with its advisory, if the organisation may have both (404 otherwise), in one query. With a
    `reader`, also whether that user acknowledged the advisory's handling terms (`handling_acknowledged`)."""
    queryset = Artifact.objects.select_related("advisory").filter(
        advisory__in=released_objects(Advisory.objects.exclude(status=AdvisoryStatus.WITHDRAWN), access)
    )
    if reader is not None:
        queryset = queryset.annotate(handling_acknowledged=_acknowledged_by(reader, advisory=OuterRef("advisory_id")))
    return get_released_object_or_404(queryset, access, advisory__identifier=identifier, pk=artifact_id)


def _acknowledged_by(user, *, advisory) -> Exists:
    return Exists(HandlingAcknowledgement.objects.filter(user=user, advisory=advisory))


def latest_delivery(*, access: PartnerAccess, advisory: Advisory) -> Delivery | None:
    """The organisation's highest-level delivery of the advisory: the one its banner and fingerprint name."""
    return (
        Delivery.objects.filter(partner=access.partner, advisory=advisory).order_by("-level", "-delivered_at").first()
    )


# Program staff -----------------------------------------------------------------------------------------------------


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


# Partner notices ---------------------------------------------------------------------------------------------------


def notices_for_user(*, user) -> QuerySet[Notice]:
    return Notice.objects.filter(user=user).select_related("advisory").order_by("-created_at", "-id")


def unread_notice_count(*, user) -> int:
    return Notice.objects.filter(user=user, read_at__isnull=True).count()


def notice_preference(*, user) -> str:
    preference = NoticePreference.objects.filter(user=user).values_list("email_mode", flat=True).first()
    return preference or EmailMode.IMMEDIATE


def released_advisory_for_partner(*, access: PartnerAccess | None, identifier: str) -> Advisory:
    """The advisory alone (no documents or files), if the organisation may see it; 404 otherwise."""
    return get_released_object_or_404(Advisory.objects.all(), access, identifier=identifier)


def has_acknowledged_handling(*, user, advisory: Advisory) -> bool:
    """Whether the user acknowledged the advisory's TLP label and handling terms (needed before opening it)."""
    return HandlingAcknowledgement.objects.filter(user=user, advisory=advisory).exists()


def handling_acknowledgements(*, advisory: Advisory) -> QuerySet[HandlingAcknowledgement]:
    """Who acknowledged the advisory's handling terms, when and from where: part of its distribution record."""
    return HandlingAcknowledgement.objects.filter(advisory=advisory).select_related("user", "partner")


def due_unreleased_waves(*, now: datetime):
    """Waves whose time has come that are still waiting for `release_due_waves` (oldest first)."""
    return (
        ReleaseWave.objects.select_related("advisory")
        .filter(
            status=WaveStatus.SCHEDULED,
            scheduled_at__lte=now,
            advisory__status__in=[AdvisoryStatus.SCHEDULED, AdvisoryStatus.RELEASED],
        )
        .order_by("scheduled_at", "-level")
    )


def overdue_notices(*, older_than: datetime) -> dict[str, int]:
    """The notice outbox's backlog older than `older_than`: deliveries whose partners' inboxes were not yet told,
    and notices that should have been emailed at once but were not."""
    wants_immediate_email = Q(user__notice_preference__isnull=True) | Q(
        user__notice_preference__email_mode=EmailMode.IMMEDIATE
    )
    return {
        "deliveries_not_notified": Delivery.objects.filter(
            notified_at__isnull=True, delivered_at__lt=older_than
        ).count(),
        "notices_not_emailed": Notice.objects.filter(
            wants_immediate_email, emailed_at__isnull=True, user__is_active=True, created_at__lt=older_than
        ).count(),
    }


# Leak investigations ---------------------------------------------------------------------------------------------


@dataclass
class Exposure:
    """One organisation that held the advisory before a leak was observed."""

    partner: Partner
    deliveries: list[Delivery]
    events: list[DownloadEvent] = field(default_factory=list)
    risk_factors: list[str] = field(default_factory=list)
    traced: bool = False

    @property
    def level(self) -> int:
        return max(d.level for d in self.deliveries)

    @property
    def level_label(self) -> str:
        return AccessLevel(self.level).label

    @property
    def delivered_at(self):
        return min(d.delivered_at for d in self.deliveries)

    @property
    def first_access(self) -> DownloadEvent | None:
        return self.events[0] if self.events else None

    @property
    def people(self) -> list[str]:
        return sorted({event.user.email for event in self.events})

    @property
    def ip_addresses(self) -> list[str]:
        return sorted({event.ip_address for event in self.events if event.ip_address})


RECENT_ACCESS = timedelta(hours=24)


def exposure_report(*, incident: LeakIncident) -> list[Exposure]:
    """Every organisation that held the advisory before the leak was observed: its deliveries up to that moment,
    its views and downloads up to that moment (who, from where), and its risk factors. Organisations delivered
    later are not listed. A fixed number of queries, whatever the number of organisations."""
    observed_at = incident.observed_at
    deliveries = list(
        Delivery.objects.filter(advisory_id=incident.advisory_id, delivered_at__lte=observed_at)
        .select_related("partner", "cohort")
        .order_by("delivered_at", "pk")
    )
    exposures: dict[int, Exposure] = {}
    for delivery in deliveries:
        exposures.setdefault(delivery.partner_id, Exposure(partner=delivery.partner, deliveries=[])).deliveries.append(
            delivery
        )
    if not exposures:
        return []
    events = (
        DownloadEvent.objects.filter(
            advisory_id=incident.advisory_id, partner_id__in=exposures, created_at__lte=observed_at
        )
        .select_related("user", "artifact")
        .order_by("created_at", "pk")
    )
    for event in events:
        exposures[event.partner_id].events.append(event)
    prior_violations = dict(
        Violation.objects.filter(partner_id__in=exposures, reported_at__lt=incident.opened_at)
        .exclude(status=ViolationStatus.DISMISSED)
        .values_list("partner_id")
        .annotate(count=Count("pk"))
    )
    capped_countries = _countries_under_a_cap(
        countries={e.partner.country.code for e in exposures.values()}, at=observed_at
    )
    traced_partners = {
        sample.trace_result["match"]["partner"]
        for sample in incident.samples.all()
        if (sample.trace_result or {}).get("match")
    }
    for exposure in exposures.values():
        exposure.traced = exposure.partner.pk in traced_partners
        exposure.risk_factors = _risk_factors(
            exposure,
            observed_at=observed_at,
            prior_violations=prior_violations.get(exposure.partner.pk, 0),
            capped_country=exposure.partner.country.code in capped_countries,
        )
    return sorted(exposures.values(), key=lambda e: (not e.traced, -len(e.risk_factors), e.delivered_at))


def cohorts_not_yet_released(*, incident: LeakIncident) -> QuerySet[ReleaseCohort]:
    """The cohorts of the advisory's waves that received it only after the leak was observed (or not yet): their
    organisations are ruled out by timing."""
    observed_at = incident.observed_at
    return (
        ReleaseCohort.objects.filter(wave__advisory_id=incident.advisory_id)
        .filter(Q(released_at__gt=observed_at) | Q(released_at__isnull=True, scheduled_at__gt=observed_at))
        .select_related("wave")
        .annotate(partner_count=Count("partners", distinct=True))
        .order_by("scheduled_at", "pk")
    )


def _countries_under_a_cap(*, countries: set[str], at) -> set[str]:
    """Countries whose jurisdiction policy in force at `at` caps access below early (e.g. a duty to report)."""
    latest: dict[str, int] = {}
    for country, cap in (
        JurisdictionPolicy.objects.filter(country__in=countries, effective_at__lte=at)
        .order_by("country", "effective_at")
        .values_list("country", "cap_level")
    ):
        latest[country] = cap
    return {country for country, cap in latest.items() if cap < AccessLevel.EARLY}


def _risk_factors(exposure: Exposure, *, observed_at, prior_violations: int, capped_country: bool) -> list[str]:
    factors = []
    if exposure.traced:
        factors.append("A leaked sample carries this organisation's fingerprint.")
    early_files = [e for e in exposure.events if e.artifact is not None and e.artifact.level >= AccessLevel.EARLY]
    if early_files:
        factors.append(f"Downloaded early-level files (proof of concept) {len(early_files)} time(s).")
    if exposure.level >= AccessLevel.EARLY:
        factors.append("Held early access, proof of concept included.")
    recent = [e for e in exposure.events if observed_at - e.created_at <= RECENT_ACCESS]
    if recent:
        factors.append("Accessed the advisory in the 24 hours before the observation.")
    if len(exposure.ip_addresses) > 1:
        factors.append(f"Accessed from {len(exposure.ip_addresses)} different IP addresses.")
    if len(exposure.people) > 3:
        factors.append(f"Read by {len(exposure.people)} people.")
    if prior_violations:
        factors.append(f"{prior_violations} earlier violation(s) on record.")
    if capped_country:
        factors.append("Based in a country whose policy caps access (e.g. a duty to report to the government).")
    if exposure.partner.status != PartnerStatus.ACTIVE:
        factors.append(f"Now {exposure.partner.get_status_display().lower()}.")
    if not exposure.events:
        factors.append("Never opened the advisory before the observation (lower risk).")
    return factors


def leak_incidents() -> QuerySet[LeakIncident]:
    """Every leak investigation with its sample and violation counts, the latest observation first."""
    return (
        LeakIncident.objects.select_related("advisory", "opened_by")
        .annotate(sample_count=Count("samples", distinct=True), violation_count=Count("violations", distinct=True))
        .order_by("-observed_at", "-id")
    )


# Partner dashboard -------------------------------------------------------------------------------------------------

DASHBOARD_ITEMS = 10


@dataclass(frozen=True)
class NextStep:
    """What an organisation without its full level must do next, as told to one member: `sign` (a partner admin:
    the agreements are in `PartnerDashboard.agreements_to_sign`), `ask_admin` (an analyst), `suspended` or
    `restricted` (enforcement); `level_once_signed` is what it receives once the agreements are signed."""

    kind: str
    level_once_signed: AccessLevel
    admins: list[str]

    @property
    def receives(self) -> str:
        return LEVEL_MEANING[self.level_once_signed]


@dataclass(frozen=True)
class PartnerDashboard:
    since: datetime | None
    new_advisories: list
    new_advisory_count: int
    agreements_to_sign: list
    unread_notices: list
    unread_notice_count: int
    team: list
    api_tokens: list | None
    next_step: NextStep | None = None


def next_step(*, access: PartnerAccess, at: datetime, team: list | None = None) -> NextStep | None:
    """What the organisation must do to reach the level the program assigned it, read from the entitlement rule's
    inputs; None when nothing holds it back but its assigned level (or a jurisdiction policy, which no one in the
    organisation can change)."""
    facts = entitlement_facts(Partner.objects.filter(pk=access.partner.pk), at)[access.partner.pk]
    admins = [m.user.get_full_name() or m.user.email for m in team or [] if m.role == MemberRole.ADMIN]
    once_signed = AccessLevel(min(facts.assigned_level, facts.jurisdiction_cap, facts.enforcement_cap))
    if facts.status != PartnerStatus.ACTIVE:
        return NextStep(kind="suspended", level_once_signed=once_signed, admins=admins)
    if facts.contract_cap < once_signed:
        kind = "sign" if access.membership.role == MemberRole.ADMIN else "ask_admin"
        return NextStep(kind=kind, level_once_signed=once_signed, admins=admins)
    if facts.level == AccessLevel.NONE:
        return NextStep(kind="restricted", level_once_signed=once_signed, admins=admins)
    return None


def partner_dashboard(*, access: PartnerAccess, user, since: datetime | None, at: datetime) -> PartnerDashboard:
    """What a partner user should look at first: what to do next when the organisation lacks an agreement or is
    suspended, advisories delivered since `since` (the latest ones on a first visit) that the organisation may
    still open, required contracts missing or expiring, the user's unread notices, the active team, and (for
    partner admins only) the organisation's usable API tokens."""
    new_advisories, new_advisory_count = [], 0
    if access.level > AccessLevel.NONE:
        advisories = advisories_for_partner(access=access)
        if since is not None:
            advisories = advisories.filter(delivered_at__gt=since)
        new_advisories, new_advisory_count = list(advisories[:DASHBOARD_ITEMS]), advisories.count()
    (contracts,) = signing_overview(at=at, partners=Partner.objects.filter(pk=access.partner.pk))
    to_sign = [s for s in contracts.standings if s.required and (s.state == Standing.MISSING or s.expiring_soon)]
    unread = Notice.objects.filter(user=user, read_at__isnull=True).select_related("advisory").order_by("-created_at")
    is_admin = access.membership.role == MemberRole.ADMIN
    team = list(
        PartnerMembership.objects.filter(partner=access.partner, is_active=True)
        .select_related("user")
        .order_by("role", "user__email")
    )
    return PartnerDashboard(
        since=since,
        new_advisories=new_advisories,
        new_advisory_count=new_advisory_count,
        agreements_to_sign=to_sign,
        unread_notices=list(unread[:DASHBOARD_ITEMS]),
        unread_notice_count=unread.count(),
        team=team,
        api_tokens=list(
            ApiToken.objects.filter(partner=access.partner, revoked_at__isnull=True, expires_at__gt=at).order_by(
                "expires_at"
            )
        )
        if is_admin
        else None,
        next_step=next_step(access=access, team=team, at=at),
    )


def indicators_for_incident(*, incident: LeakIncident) -> list[PartnerIndicator]:
    """Indicators the receiving organisations reported for the leaked advisory, earliest sighting first, each marked
    `before_observation` / `before_public_release`: exploitation seen in the wild before the advisory was public is
    evidence for the timeline of a leak."""
    indicators = list(
        PartnerIndicator.objects.filter(advisory_id=incident.advisory_id)
        .select_related("partner")
        .order_by("first_seen", "id")
    )
    for indicator in indicators:
        indicator.before_observation = indicator.first_seen < incident.observed_at
        indicator.before_public_release = indicator.first_seen < incident.advisory.public_release_at
    return indicators


def public_csaf_advisories() -> QuerySet[Advisory]:
    """Public TLP:CLEAR advisories: the only ones whose (generic) content anybody may read without a token, in the
    CSAF provider directory (CSAF requirement 4). Every other advisory is served only to the organisations it was
    released to."""
    return Advisory.objects.filter(status=AdvisoryStatus.PUBLIC, tlp=TLP.CLEAR)


# The one delivery path ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueDelivery:
    """One wave due to one partner at an instant, through `cohort` when the partner is in a cohort of that wave.
    `public_archive`: the generic wave of an advisory already public before that instant (delivered silently)."""

    partner_id: int
    wave: ReleaseWave
    cohort: ReleaseCohort | None = None
    public_archive: bool = False


# Lists enter the due rule's SQL as one JSON parameter whatever their length (SQLite caps the number of
# parameters): the rows of a JSON array (column `value`) or object (`key`, `value`), in each backend's words.
JSON_ARRAY_ROWS = {
    "postgresql": "json_array_elements_text(CAST(%({name})s AS json))",
    "sqlite": "json_each(%({name})s)",
}
JSON_OBJECT_ROWS = {"postgresql": "json_each_text(CAST(%({name})s AS json))", "sqlite": "json_each(%({name})s)"}


def json_ids_sql(name: str) -> str:
    """A subquery of the ids in the JSON array passed as the named parameter `name`."""
    return f"SELECT CAST(value AS BIGINT) FROM {JSON_ARRAY_ROWS[connection.vendor].format(name=name)}"  # noqa: S608


@dataclass(frozen=True)
class DueDeliveriesSQL:
    """The due rule as one SELECT of `(partner_id, wave_id, advisory_id, level, cohort_id, public_archive)` with
    its named parameters: read by `due_deliveries`, inserted from by `advisories.fanout`."""

    sql: str
    params: dict


def due_deliveries_sql(
    *,
    at: datetime,
    partner_ids: list[int] | None = None,
    advisory_ids: list[int] | None = None,
    wave_ids: list[int] | None = None,
) -> DueDeliveriesSQL | None:
    """The rule of `due_deliveries` (see there) as SQL, or None when no partner is entitled to anything at `at`.
    The partners' effective levels come from the entitlement rule (`effective_levels`, five queries whatever their
    number) and enter the statement as one JSON parameter; everything else is decided by the database: a partner's
    candidate waves are those its level reaches, not held at their level or above and, when it is in a cohort of the
    wave, whose cohort time has come; of these it is due the highest (the same as taking the highest wave it may
    have and skipping it when already held at that level, as a lower one is then held too). A partner is in at most
    one cohort of a wave (`validate_release_cohort`)."""
    partners = Partner.objects.filter(status=PartnerStatus.ACTIVE)
    if partner_ids is not None:
        partners = partners.filter(pk__in=partner_ids)
    levels = {pk: int(level) for pk, level in effective_levels(partners, at).items() if level >= AccessLevel.GENERIC}
    if not levels:
        return None
    params = {
        "levels": json.dumps(levels),
        "at": connection.ops.adapt_datetimefield_value(at),
        "released": WaveStatus.RELEASED,
        "under_embargo": AdvisoryStatus.RELEASED,
        "public": AdvisoryStatus.PUBLIC,
        "generic": int(AccessLevel.GENERIC),
    }
    narrowed = ""
    if advisory_ids is not None:
        narrowed += f" AND w.advisory_id IN ({json_ids_sql('advisory_ids')})"
        params["advisory_ids"] = json.dumps(list(advisory_ids))
    if wave_ids is not None:
        narrowed += f" AND w.id IN ({json_ids_sql('wave_ids')})"
        params["wave_ids"] = json.dumps(list(wave_ids))
    levels_rows = JSON_OBJECT_ROWS[connection.vendor].format(name="levels")
    sources = {
        "advisory": Advisory,
        "cohort": ReleaseCohort,
        "cohort_partner": ReleaseCohort.partners.through,
        "delivery": Delivery,
        "wave": ReleaseWave,
    }
    table = {name: connection.ops.quote_name(model._meta.db_table) for name, model in sources.items()}
    # Table names and the narrowing come from the code, never from input: every value is a parameter.
    sql = f"""
        WITH entitled (partner_id, level) AS (
            SELECT CAST(key AS BIGINT), CAST(value AS INTEGER) FROM {levels_rows}
        ),
        released AS (
            SELECT w.id, w.advisory_id, w.level, a.status = %(public)s AND w.released_at < %(at)s AS public_archive
            FROM {table["wave"]} w JOIN {table["advisory"]} a ON a.id = w.advisory_id
            WHERE w.status = %(released)s AND w.released_at <= %(at)s
              AND (a.status = %(under_embargo)s OR (a.status = %(public)s AND w.level = %(generic)s)){narrowed}
        ),
        candidates AS (
            SELECT e.partner_id, r.id AS wave_id, r.advisory_id, r.level, c.id AS cohort_id, r.public_archive
            FROM released r
            JOIN entitled e ON e.level >= r.level
            LEFT JOIN ({table["cohort_partner"]} cp
                       JOIN {table["cohort"]} c ON c.id = cp.releasecohort_id)
              ON c.wave_id = r.id AND cp.partner_id = e.partner_id
            WHERE (c.id IS NULL OR c.scheduled_at <= %(at)s)
              AND NOT EXISTS (
                  SELECT 1 FROM {table["delivery"]} d
                  WHERE d.partner_id = e.partner_id AND d.advisory_id = r.advisory_id AND d.level >= r.level)
        ),
        ranked AS (
            SELECT candidates.*, MAX(level) OVER (PARTITION BY partner_id, advisory_id) AS highest FROM candidates
        )
        SELECT partner_id, wave_id, advisory_id, level, cohort_id, public_archive FROM ranked WHERE level = highest
    """  # noqa: S608
    return DueDeliveriesSQL(sql=sql, params=params)


def due_deliveries(
    *,
    at: datetime,
    partner_ids: list[int] | None = None,
    advisory_ids: list[int] | None = None,
    wave_ids: list[int] | None = None,
) -> list[DueDelivery]:
    """Who is due what at `at`: the one rule every delivery follows (release, cohorts, catch-up after an
    entitlement change, reconciliation). A partner is due the highest released wave (released at or before `at`)
    of an advisory under embargo that its effective level at `at` reaches, and whose cohort time (if it is in a
    cohort of that wave) has come; for a public advisory, the generic wave (the public archive). Nothing the
    partner already holds at that level or above; never a withdrawn or unreleased advisory. Optionally narrowed to
    some partners, advisories or waves. The rule is one SQL statement (`due_deliveries_sql`), which the release's
    fan-out inserts from directly (`advisories.fanout`); here its rows are read, by advisory and partner. A fixed
    number of queries whatever the number of partners."""
    query = due_deliveries_sql(at=at, partner_ids=partner_ids, advisory_ids=advisory_ids, wave_ids=wave_ids)
    if query is None:
        return []
    with connection.cursor() as cursor:
        cursor.execute(query.sql, query.params)
        rows = sorted(cursor.fetchall(), key=lambda row: (row[2], row[0]))
    waves = ReleaseWave.objects.select_related("advisory").in_bulk({row[1] for row in rows})
    cohorts = ReleaseCohort.objects.in_bulk({row[4] for row in rows if row[4] is not None})
    return [
        DueDelivery(
            partner_id=partner_id,
            wave=waves[wave_id],
            cohort=cohorts.get(cohort_id),
            public_archive=bool(public_archive),
        )
        for partner_id, wave_id, _advisory_id, _level, cohort_id, public_archive in rows
    ]
