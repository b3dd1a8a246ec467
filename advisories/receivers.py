import logging

from django.dispatch import receiver

from advisories.services import revoke_partner_grants
from partners.models import PartnerStatus
from partners.signals import entitlement_changed, standing_changed

logger = logging.getLogger(__name__)


@receiver(standing_changed, dispatch_uid="advisories.revoke_grants_on_removal")
def revoke_grants_on_removal(sender, partner_id, new_status, **kwargs):
    if new_status == PartnerStatus.REMOVED:
        revoke_partner_grants(partner_id=partner_id)


@receiver(entitlement_changed, dispatch_uid="advisories.deliver_due_waves_on_entitlement_change")
def deliver_due_waves_on_entitlement_change(sender, partner_ids, **kwargs):
    from advisories.tasks import deliver_due_waves_to_partners

    # The signal is sent after commit: the task reads the committed change. A broker that is down must not fail the
    # change that committed: the reconciliation beat entries deliver what is due within a minute.
    try:
        deliver_due_waves_to_partners.delay(sorted(partner_ids))
    except Exception:  # kombu, redis-py and sockets raise their own errors: all mean "not queued"
        logger.warning("Broker unavailable: deliveries for %s left to the reconciliation", sorted(partner_ids))
