from datetime import datetime

from django.db.models import DateTimeField, Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest

from advisories.models import SEVERITY_SCORE_RANGES, Advisory, AdvisoryDocument, Artifact, Delivery, Severity
from compliance.entitlements import PartnerAccess, get_released_object_or_404, released_objects


def advisories_for_partner(*, access: PartnerAccess | None, search: str = "") -> QuerySet[Advisory]:
    """The advisories released to the organisation that it is still entitled to, most recently delivered first."""
    queryset = released_objects(Advisory.objects.all(), access)
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
    affected product (substring), CVE id (exact) and CVSS severity."""
    queryset = released_objects(Advisory.objects.all(), access)
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
    organisation; 404 for anything else."""
    queryset = Advisory.objects.all() if access is None else _with_sync_dates(Advisory.objects.all(), access)
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
        Artifact.objects.select_related("advisory"), access, advisory__identifier=identifier, pk=artifact_id
    )


def latest_delivery(*, access: PartnerAccess, advisory: Advisory) -> Delivery | None:
    """The organisation's highest-level delivery of the advisory: the one its banner and fingerprint name."""
    return (
        Delivery.objects.filter(partner=access.partner, advisory=advisory).order_by("-level", "-delivered_at").first()
    )
