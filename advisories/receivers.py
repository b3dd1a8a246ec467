import logging

from django.conf import settings
from django.dispatch import receiver

from advisories.services import revoke_partner_grants
from advisories.signals import deliveries_to_notify, notices_to_email, webhook_messages_to_send
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


@receiver(deliveries_to_notify, dispatch_uid="advisories.queue_release_notices")
def queue_release_notices(sender, delivery_ids, **kwargs):
    from advisories.tasks import send_release_notices

    _hand_to_broker_in_batches(send_release_notices, delivery_ids)


@receiver(notices_to_email, dispatch_uid="advisories.queue_notice_emails")
def queue_notice_emails(sender, notice_ids, **kwargs):
    from advisories.tasks import email_notices

    _hand_to_broker_in_batches(email_notices, notice_ids)


def _hand_to_broker_in_batches(task, ids: list[int]) -> None:
    """Queue `task(batch)` for each batch of ids now if the broker answers. The rows themselves are the outbox (a
    delivery not yet notified, a notice not yet emailed), so when the broker is down the work is not lost:
    `dispatch_pending_notices` finds it on its next run. The committed change that sent the signal must not fail
    because the broker did."""
    batch_size = settings.RELEASE_NOTICE_BATCH_SIZE
    for start in range(0, len(ids), batch_size):
        batch = ids[start : start + batch_size]
        try:
            task.delay(batch)
        except Exception:  # kombu raises its own OperationalError, redis-py and sockets others: all mean "not queued"
            logger.warning("Broker unavailable: %s for %d rows left to the notice dispatcher", task.name, len(batch))


@receiver(webhook_messages_to_send, dispatch_uid="advisories.queue_webhook_sends")
def queue_webhook_sends(sender, message_ids, **kwargs):
    from advisories.tasks import send_webhook_message

    for message_id in message_ids:
        try:
            send_webhook_message.delay(message_id)
        except Exception:  # the broker is down: the message row waits for requeue_stalled_webhook_messages
            logger.warning("Broker unavailable: webhook message %s left to the stalled-message requeue", message_id)
            return
