import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from advisories import services
from advisories.protection import reminders as protection_reminders
from advisories.selectors.notices import instants_falling_due
from advisories.webhooks import services as webhook_services
from core.clock import embargo_now
from core.services import record_heartbeat
from core.tasks import RETRIED_ON_TRANSIENT_ERRORS

RELEASE_HEARTBEAT = "release_due_waves"

logger = logging.getLogger(__name__)


# Both tasks are idempotent (the database says what is done), so a message is acknowledged only after the work:
# a worker that dies mid-task leaves it to be redelivered or to the next tick, never lost.
@shared_task(ignore_result=True, acks_late=True)
def release_due_waves(at_due_instant=False):
    record_heartbeat(name=RELEASE_HEARTBEAT)
    released = services.release_due_waves()
    if not at_due_instant:
        _tick_at_instants_due_before_the_next_tick()
    return len(released)


def _tick_at_instants_due_before_the_next_tick() -> None:
    """Beat ticks every RELEASE_INTERVAL_SECONDS; a wave falling due before the next tick gets a tick of its own at
    its instant, so it does not wait for beat. The database's clock still decides (the worker's may be off): a tick
    that comes too early releases nothing, and beat's next one does."""
    now = embargo_now()
    for instant in instants_falling_due(after=now, until=now + timedelta(seconds=settings.RELEASE_INTERVAL_SECONDS)):
        try:
            release_due_waves.apply_async(kwargs={"at_due_instant": True}, eta=instant)
        except Exception:  # kombu, redis-py and sockets raise their own errors: all mean "not queued"
            logger.warning("Broker unavailable: the wave due at %s waits for beat's next tick", instant)
            return


# Idempotent: the one delivery path never delivers a wave twice (locked, and a database constraint).
@shared_task(ignore_result=True, acks_late=True)
def deliver_due_waves_to_partners(partner_ids):
    return len(services.deliver_due_waves(partner_ids=partner_ids))


@shared_task(ignore_result=True, acks_late=True)
def reconcile_deliveries(embargoed_only=False):
    return len(services.reconcile_deliveries(embargoed_only=embargoed_only))


# Idempotent (each delivery is notified once, each notice emailed once), so a transient failure is retried with
# backoff, and a message whose worker died is requeued; whatever is still pending after that is found by
# `dispatch_pending_notices`: never lost.
@shared_task(**RETRIED_ON_TRANSIENT_ERRORS)
def send_release_notices(delivery_ids):
    return services.send_release_notices(delivery_ids=delivery_ids)


@shared_task(**RETRIED_ON_TRANSIENT_ERRORS)
def email_notices(notice_ids):
    return services.email_notices(notice_ids=notice_ids)


@shared_task(ignore_result=True)
def dispatch_pending_notices():
    return services.dispatch_pending_notices()


@shared_task(ignore_result=True)
def send_notice_digests():
    return services.send_notice_digests()


# Idempotent: each reminder row is sent once (locked and marked in one transaction).
@shared_task(ignore_result=True, acks_late=True)
def send_protection_reminders():
    return protection_reminders.send_protection_reminders()


# One attempt per run; the outbox row says what is done, so a redelivered message never sends twice. A failed attempt
# (logged and committed first) is retried with exponential backoff, capped well under the broker's visibility
# timeout; the service stops after WEBHOOK_MAX_ATTEMPTS.
@shared_task(
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(webhook_services.WebhookAttemptFailed,),
    retry_backoff=30,
    retry_backoff_max=900,
    retry_jitter=True,
    max_retries=None,
)
def send_webhook_message(message_id):
    return webhook_services.send_webhook_message(message_id=message_id)


@shared_task(ignore_result=True)
def requeue_stalled_webhook_messages():
    return webhook_services.requeue_stalled_webhook_messages()
