from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet

from advisories.models import Advisory, AdvisoryDocument, Artifact, Delivery
from compliance.entitlements import PartnerAccess, get_released_object_or_404, released_objects


def advisories_for_partner(*, access: PartnerAccess | None, search: str = "") -> QuerySet[Advisory]:
    """The advisories released to the organisation that it is still entitled to, most recently delivered first.

    Each advisory is read through the organisation's highest-level delivery of it, which is also its latest (a
    partner receives another delivery of an advisory only at a higher level), so that the database walks the
    organisation's deliveries in index order: a page costs the same whatever the number of advisories."""
    queryset = released_objects(Advisory.objects.all(), access)
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
