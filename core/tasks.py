from celery import shared_task
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerUnavailable

from core import notifications, outbox, services  # noqa: F401  (notifications registers its outbox handler)

# Errors that pass: SMTP and sockets (OSError), a database connection lost or refused, the broker gone.
TRANSIENT_ERRORS = (OSError, OperationalError, InterfaceError, BrokerUnavailable)
# Options of an idempotent task that sends something: acknowledged after it ran, requeued if its worker died, and
# retried with backoff on a transient error.
RETRIED_ON_TRANSIENT_ERRORS = {
    "ignore_result": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 30,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}


# A message is done once (locked, run and marked in one transaction), so a transient failure is retried with
# backoff and a message whose worker died is requeued; what is still pending after that, dispatch_outbox runs.
@shared_task(**RETRIED_ON_TRANSIENT_ERRORS)
def run_outbox_message(message_id):
    return outbox.run_outbox_message(message_id=message_id)


@shared_task(ignore_result=True)
def dispatch_outbox():
    return outbox.dispatch_outbox()


@shared_task(ignore_result=True)
def link_audit_events():
    return services.link_audit_events()


@shared_task(ignore_result=True)
def publish_audit_checkpoint():
    checkpoint = services.publish_audit_checkpoint()
    return checkpoint.size if checkpoint else None
