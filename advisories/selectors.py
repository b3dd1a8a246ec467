from datetime import datetime

from django.db.models import Max, Prefetch, Q, QuerySet

from advisories.models import Advisory, AdvisoryDocument, AdvisoryStatus, Artifact, Delivery, ReleaseWave, WaveStatus
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


def advisory_for_partner(*, access: PartnerAccess | None, identifier: str) -> Advisory:
    """One advisory with the documents and artifacts the organisation may see; 404 for anything else."""
    return get_released_object_or_404(
        Advisory.objects.prefetch_related(
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
