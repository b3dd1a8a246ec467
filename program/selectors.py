"""Reads for the staff pages: the vetting queue, the partner list with effective levels, one partner's record."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from advisories.models import Advisory, Delivery, DownloadEvent
from advisories.selectors import handling_acknowledgements
from compliance.entitlements import effective_levels
from core.models import AuditEvent
from partners.models import (
    ApplicationStatus,
    Partner,
    PartnerApplication,
    PartnerDomain,
    PartnerMembership,
)

QUEUE_STATES = (ApplicationStatus.EMAIL_VERIFIED, ApplicationStatus.UNDER_REVIEW)


def application_queue(*, status: str = "", country: str = "", search: str = "") -> QuerySet[PartnerApplication]:
    """Applications for reviewers, oldest first. By default the queue: verified and under review (an application
    whose email is not confirmed never shows)."""
    queryset = PartnerApplication.objects.select_related("reviewer")
    queryset = queryset.filter(status=status) if status else queryset.filter(status__in=QUEUE_STATES)
    queryset = queryset.exclude(status=ApplicationStatus.SUBMITTED)
    if country:
        queryset = queryset.filter(country=country)
    search = search.strip()
    if search:
        queryset = queryset.filter(
            Q(legal_name__icontains=search) | Q(trading_name__icontains=search) | Q(applicant_email__icontains=search)
        )
    return queryset.order_by("submitted_at", "pk")


def partner_list(
    *,
    search: str = "",
    status: str = "",
    assigned_level: int | None = None,
    effective_level: int | None = None,
    country: str = "",
    at: datetime | None = None,
) -> QuerySet[Partner]:
    """Partners matching the filters, by name, with their active member count. Filtering on the effective level
    evaluates the entitlement rule for the matching partners in a fixed number of queries."""
    queryset = Partner.objects.annotate(
        active_members=Count("memberships", filter=Q(memberships__is_active=True))
    ).order_by("legal_name")
    search = search.strip()
    if search:
        queryset = queryset.filter(
            Q(legal_name__icontains=search)
            | Q(trading_name__icontains=search)
            | Q(pk__in=PartnerDomain.objects.filter(domain__icontains=search).values("partner_id"))
        )
    if status:
        queryset = queryset.filter(status=status)
    if assigned_level is not None:
        queryset = queryset.filter(assigned_level=assigned_level)
    if country:
        queryset = queryset.filter(country=country)
    if effective_level is not None:
        levels = effective_levels(queryset, at or timezone.now())
        queryset = queryset.filter(pk__in=[pk for pk, level in levels.items() if level == effective_level])
    return queryset


def with_effective_levels(partners: list[Partner], at: datetime | None = None) -> list[Partner]:
    """Attach `effective_level` to each partner of one page (five queries whatever the page size)."""
    levels = effective_levels(Partner.objects.filter(pk__in=[p.pk for p in partners]), at or timezone.now())
    for partner in partners:
        partner.effective_level = levels.get(partner.pk)
    return partners


@dataclass(frozen=True)
class PartnerRecord:
    partner: Partner
    effective_level: int
    members: list
    invitations: list
    agreements: list
    deliveries: list
    downloads: list
    timeline: list
    application: PartnerApplication | None


RECENT = 50


def partner_record(partner: Partner, at: datetime | None = None) -> PartnerRecord:
    """Everything staff see on one partner's page: members, invitations, agreements, the latest deliveries and
    downloads, and the audit timeline of the partner, its application and its agreements."""
    at = at or timezone.now()
    application = PartnerApplication.objects.filter(partner=partner).first()
    agreements = list(partner.agreements.select_related("contract_version", "signed_by").order_by("-signed_at"))
    targets = Q(target_type=Partner._meta.label, target_id=str(partner.pk))
    if application is not None:
        targets |= Q(target_type=PartnerApplication._meta.label, target_id=str(application.pk))
    if agreements:
        targets |= Q(target_type="compliance.Agreement", target_id__in=[str(a.pk) for a in agreements])
    return PartnerRecord(
        partner=partner,
        effective_level=effective_levels(Partner.objects.filter(pk=partner.pk), at)[partner.pk],
        members=list(PartnerMembership.objects.filter(partner=partner).select_related("user")),
        invitations=list(partner.invitations.select_related("invited_by").order_by("-created_at")[:RECENT]),
        agreements=agreements,
        deliveries=list(partner.deliveries.select_related("advisory").order_by("-delivered_at")[:RECENT]),
        downloads=list(
            partner.download_events.select_related("advisory", "user", "artifact").order_by("-created_at")[:RECENT]
        ),
        timeline=list(AuditEvent.objects.filter(targets).order_by("-id")[:200]),
        application=application,
    )


# Reports -------------------------------------------------------------------------------------------------------------


def _report_filters(queryset, *, time_field: str, advisory: str, partner_id: int | None, since, until):
    if advisory:
        queryset = queryset.filter(advisory__identifier__iexact=advisory.strip())
    if partner_id:
        queryset = queryset.filter(partner_id=partner_id)
    if since:
        queryset = queryset.filter(**{f"{time_field}__gte": since})
    if until:
        queryset = queryset.filter(**{f"{time_field}__lt": until})
    return queryset


def deliveries_report(*, advisory: str = "", partner_id: int | None = None, since=None, until=None):
    """Deliveries, newest first, with advisory and organisation, narrowed by advisory identifier, organisation and
    a delivery time range [since, until)."""
    queryset = Delivery.objects.select_related("advisory", "partner", "wave").order_by("-delivered_at", "-id")
    return _report_filters(
        queryset, time_field="delivered_at", advisory=advisory, partner_id=partner_id, since=since, until=until
    )


def download_events_report(*, advisory: str = "", partner_id: int | None = None, since=None, until=None):
    """Every view and download, newest first, with who, which organisation, what and from where; the same filters
    as the deliveries report over the time of the event."""
    queryset = DownloadEvent.objects.select_related("advisory", "partner", "user", "artifact", "delivery").order_by(
        "-created_at", "-id"
    )
    return _report_filters(
        queryset, time_field="created_at", advisory=advisory, partner_id=partner_id, since=since, until=until
    )


@dataclass(frozen=True)
class DistributionReport:
    advisory: Advisory
    deliveries: list
    acknowledgements: list
    downloads: list


def distribution_report(advisory: Advisory) -> DistributionReport:
    """Who received the advisory at which level and when, when each organisation first opened it and by whom, how
    often, who acknowledged its handling terms, and every access: the advisory's distribution record."""
    first = DownloadEvent.objects.filter(delivery=OuterRef("pk")).order_by("created_at", "id")
    deliveries = (
        Delivery.objects.filter(advisory=advisory)
        .select_related("partner", "wave")
        .annotate(
            first_access_at=Subquery(first.values("created_at")[:1]),
            first_access_by=Subquery(first.values("user__email")[:1]),
            last_access_at=Max("download_events__created_at"),
            accesses=Count("download_events"),
        )
        .order_by("delivered_at", "partner__legal_name")
    )
    return DistributionReport(
        advisory=advisory,
        deliveries=list(deliveries),
        acknowledgements=list(handling_acknowledgements(advisory=advisory).order_by("acknowledged_at", "id")),
        downloads=list(
            DownloadEvent.objects.filter(advisory=advisory)
            .select_related("partner", "user", "artifact")
            .order_by("created_at", "id")
        ),
    )
