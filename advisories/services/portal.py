"""What partner users do in the portal that is recorded: views, downloads and exports, handling
acknowledgements, dashboard visits."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from advisories.access import object_level
from advisories.models import Advisory, Artifact, Delivery, DownloadEvent, HandlingAcknowledgement, PortalVisit
from advisories.selectors.portal import access_deliveries
from compliance.entitlements import PartnerAccess
from core.levels import AccessLevel
from core.services import record_audit_event


class ReadDelivery:
    """`record_access`'s default: the delivery is read there."""


def record_access(
    *,
    access: PartnerAccess,
    user,
    advisory: Advisory,
    kind: str,
    artifact: Artifact | None = None,
    ip_address=None,
    user_agent="",
    delivery: Delivery | None | type[ReadDelivery] = ReadDelivery,
) -> DownloadEvent:
    """Record a partner user's view, download or export, tied to the delivery through which the organisation holds
    it, and to the API token when the access came through the API. A caller that already read that delivery
    (`selectors.access_deliveries`, as `advisory_for_partner` does for a view) passes it as `delivery`."""
    if delivery is ReadDelivery:
        needed = object_level(artifact) if artifact is not None else AccessLevel.GENERIC
        delivery = access_deliveries(partner_id=access.partner.pk, advisory=advisory, needed=needed).first()
    return DownloadEvent.objects.create(
        user=user,
        partner=access.partner,
        advisory=advisory,
        artifact=artifact,
        delivery=delivery,
        kind=kind,
        api_token=access.api_token,
        ip_address=ip_address,
        user_agent=(user_agent or "")[:500],
    )


def acknowledge_handling(
    *, access: PartnerAccess, user, advisory: Advisory, ip_address=None, user_agent: str = ""
) -> HandlingAcknowledgement:
    """Record that a partner user acknowledged the advisory's TLP label and handling terms, once: a second call
    returns the first acknowledgement unchanged. The caller has already resolved the advisory through the
    entitlement selectors (the user may see it)."""
    with transaction.atomic():
        acknowledgement, created = HandlingAcknowledgement.objects.get_or_create(
            user=user,
            advisory=advisory,
            defaults={
                "partner": access.partner,
                "tlp": advisory.tlp,
                "acknowledged_at": timezone.now(),
                "ip_address": ip_address,
                "user_agent": (user_agent or "")[:500],
            },
        )
        if created:
            record_audit_event(
                actor=user,
                action="advisory.handling_acknowledged",
                target=advisory,
                details={"partner": access.partner.pk, "tlp": advisory.tlp},
                ip_address=ip_address,
            )
    return acknowledgement


def record_portal_visit(*, user, at: datetime | None = None) -> datetime | None:
    """Note that the partner user looked at their dashboard now; returns the previous visit (None on the first).
    Not audited: it records no access to content, only what to highlight as new."""
    at = at or timezone.now()
    with transaction.atomic():
        visit = PortalVisit.objects.select_for_update().filter(user=user).first()
        if visit is None:
            PortalVisit.objects.create(user=user, seen_at=at)
            return None
        previous = visit.seen_at
        visit.seen_at = at
        visit.save(update_fields=["seen_at"])
        return previous
