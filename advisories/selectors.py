from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    BooleanField,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from advisories.models import (
    SEVERITY_SCORE_RANGES,
    Advisory,
    AdvisoryDocument,
    AdvisoryStatus,
    AdvisoryUserObjectPermission,
    Artifact,
    Delivery,
    DownloadEvent,
    EmailMode,
    HandlingAcknowledgement,
    Notice,
    NoticeKind,
    NoticePreference,
    ReleaseWave,
    Severity,
    WaveStatus,
)
from compliance.entitlements import PartnerAccess, entitlement_facts, get_released_object_or_404, released_objects
from compliance.selectors import Standing, signing_overview
from core.levels import AccessLevel
from core.roles import is_program_manager
from partners.models import ApiToken, MemberRole, Partner, PartnerMembership, PartnerStatus


def advisories_for_partner(*, access: PartnerAccess | None, search: str = "") -> QuerySet[Advisory]:
    """The advisories released to the organisation that it is still entitled to, most recently delivered first.
    A withdrawn advisory is never listed (its grants are revoked too)."""
    queryset = released_objects(Advisory.objects.exclude(status=AdvisoryStatus.WITHDRAWN), access)
    if access is None:
        return queryset
    search = search.strip()
    if search:
        queryset = queryset.filter(
            Q(identifier__icontains=search) | Q(title__icontains=search) | Q(cve_ids__icontains=search)
        )
    return queryset.annotate(
        delivered_at=Max("deliveries__delivered_at", filter=Q(deliveries__partner_id=access.partner.pk))
    ).order_by("-delivered_at", "-id")


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


def advisory_for_partner(*, access: PartnerAccess | None, identifier: str) -> Advisory:
    """One advisory with the documents and artifacts the organisation may see, and its delivery dates for the
    organisation; 404 for anything else (a withdrawn advisory included)."""
    queryset = Advisory.objects.exclude(status=AdvisoryStatus.WITHDRAWN)
    if access is not None:
        queryset = _with_sync_dates(queryset, access)
    return get_released_object_or_404(
        queryset.prefetch_related(
            Prefetch("documents", queryset=released_objects(AdvisoryDocument.objects.all(), access)),
            Prefetch("artifacts", queryset=released_objects(Artifact.objects.all(), access)),
        ),
        access,
        identifier=identifier,
    )


def artifact_for_partner(*, access: PartnerAccess | None, identifier: str, artifact_id: int) -> Artifact:
    return get_released_object_or_404(
        Artifact.objects.select_related("advisory").exclude(advisory__status=AdvisoryStatus.WITHDRAWN),
        access,
        advisory__identifier=identifier,
        pk=artifact_id,
    )


def latest_delivery(*, access: PartnerAccess, advisory: Advisory) -> Delivery | None:
    """The organisation's highest-level delivery of the advisory: the one its banner and fingerprint name."""
    return (
        Delivery.objects.filter(partner=access.partner, advisory=advisory).order_by("-level", "-delivered_at").first()
    )


# Program staff -----------------------------------------------------------------------------------------------------

CONTENT_VISIBLE_TO_ALL_MANAGERS = (AdvisoryStatus.RELEASED, AdvisoryStatus.PUBLIC, AdvisoryStatus.WITHDRAWN)


def _assignment(user) -> Exists:
    return Exists(
        AdvisoryUserObjectPermission.objects.filter(
            content_object=OuterRef("pk"), user_id=user.pk, permission__codename="edit_advisory"
        )
    )


def is_assigned_manager(user, advisory: Advisory) -> bool:
    """Whether the program manager is assigned to the advisory (`edit_advisory` object permission); a superuser
    always is."""
    if not is_program_manager(user):
        return False
    if user.is_superuser:
        return True
    return AdvisoryUserObjectPermission.objects.filter(
        content_object=advisory, user_id=user.pk, permission__codename="edit_advisory"
    ).exists()


def can_view_content(user, advisory: Advisory) -> bool:
    """Need-to-know: before release only the assigned managers open an advisory; after release every program
    manager may read it (editing stays with the assigned ones)."""
    if not is_program_manager(user):
        return False
    return advisory.status in CONTENT_VISIBLE_TO_ALL_MANAGERS or is_assigned_manager(user, advisory)


def advisories_for_staff(*, user, search: str = "") -> QuerySet[Advisory]:
    """Every advisory, annotated with `content_visible` for the user (need-to-know: assigned, or released),
    newest public release first. Templates show the title only where it is true."""
    assigned = Value(True) if user.is_superuser else _assignment(user)
    queryset = Advisory.objects.annotate(
        content_visible=ExpressionWrapper(
            Q(status__in=CONTENT_VISIBLE_TO_ALL_MANAGERS) | Q(assigned), output_field=BooleanField()
        )
    )
    search = search.strip()
    if search:
        queryset = queryset.filter(
            Q(identifier__icontains=search) | Q(cve_records__cve_id__icontains=search)
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
    """Of these advisories, the ones whose content the user may see (`can_view_content`), in one query."""
    advisories = list(advisories)
    if user.is_superuser:
        return {advisory.pk for advisory in advisories}
    visible = {advisory.pk for advisory in advisories if advisory.status in CONTENT_VISIBLE_TO_ALL_MANAGERS}
    hidden = {advisory.pk for advisory in advisories} - visible
    if hidden:
        visible |= set(
            AdvisoryUserObjectPermission.objects.filter(
                content_object_id__in=hidden, user_id=user.pk, permission__codename="edit_advisory"
            ).values_list("content_object_id", flat=True)
        )
    return visible


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


# Partner dashboard -------------------------------------------------------------------------------------------------

DASHBOARD_ITEMS = 10


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


def partner_dashboard(*, access: PartnerAccess, user, since: datetime | None, at: datetime) -> PartnerDashboard:
    """What a partner user should look at first: advisories delivered since `since` (the latest ones on a first
    visit) that the organisation may still open, required contracts missing or expiring, the user's unread notices,
    the active team, and (for partner admins only) the organisation's usable API tokens."""
    advisories = advisories_for_partner(access=access) if access.level > AccessLevel.NONE else Advisory.objects.none()
    if since is not None:
        advisories = advisories.filter(delivered_at__gt=since)
    (contracts,) = signing_overview(at=at, partners=Partner.objects.filter(pk=access.partner.pk))
    to_sign = [s for s in contracts.standings if s.required and (s.state == Standing.MISSING or s.expiring_soon)]
    unread = Notice.objects.filter(user=user, read_at__isnull=True).select_related("advisory").order_by("-created_at")
    is_admin = access.membership.role == MemberRole.ADMIN
    return PartnerDashboard(
        since=since,
        new_advisories=list(advisories[:DASHBOARD_ITEMS]),
        new_advisory_count=advisories.count(),
        agreements_to_sign=to_sign,
        unread_notices=list(unread[:DASHBOARD_ITEMS]),
        unread_notice_count=unread.count(),
        team=list(
            PartnerMembership.objects.filter(partner=access.partner, is_active=True)
            .select_related("user")
            .order_by("role", "user__email")
        ),
        api_tokens=list(
            ApiToken.objects.filter(partner=access.partner, revoked_at__isnull=True, expires_at__gt=at).order_by(
                "expires_at"
            )
        )
        if is_admin
        else None,
    )
