"""The outbox for work that must follow a committed change: the emails that matter (enforcement actions, appeal
decisions, jurisdiction policy changes, invitations, applications, standing changes, second-factor changes).

The intent is an `OutboxMessage` row written in the change's own transaction, naming a registered handler and its
arguments (ids and short values only: the email is built when it is sent, from what the database says then). After
commit the row is handed to the broker; whatever is still pending later (the broker was down, a worker died, the
SMTP server refused) is run by beat's `dispatch-outbox`. A row is locked, run and marked done in one transaction,
so it completes once; the one window for a second email is a crash after the SMTP server accepted the message and
before that commit. Only registered handlers run: a row cannot name an arbitrary function.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.models import OutboxMessage

logger = logging.getLogger(__name__)

HANDLERS: dict[str, Callable[..., object]] = {}


def outbox_handler(name: str):
    """Register the decorated function as the outbox handler `name` (called with the row's keyword arguments)."""

    def register(function):
        if HANDLERS.setdefault(name, function) is not function:
            raise ValueError(f"outbox handler {name!r} is registered twice")
        return function

    return register


def run_after_commit(handler: str, **arguments) -> OutboxMessage:
    """Record, in the current transaction, that `handler(**arguments)` must run once it commits."""
    if handler not in HANDLERS:
        raise ValueError(f"no outbox handler {handler!r}")
    message = OutboxMessage.objects.create(handler=handler, arguments=arguments, created_at=timezone.now())
    transaction.on_commit(lambda: _hand_to_broker(message.pk))
    return message


def _hand_to_broker(message_id: int) -> None:
    from core.tasks import run_outbox_message

    try:
        run_outbox_message.delay(message_id)
    except Exception:  # the broker is down: the row waits for dispatch_outbox
        logger.warning("Broker unavailable: outbox message %s left to the outbox dispatcher", message_id)


def run_outbox_message(*, message_id: int) -> bool:
    """Run one pending message and mark it done, in one transaction; False when it is done already or another
    worker holds it. A handler's error rolls the run back and is raised (the task retries it)."""
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update(skip_locked=True).filter(pk=message_id, done_at=None).first()
        if message is None:
            return False
        HANDLERS[message.handler](**message.arguments)
        message.done_at = timezone.now()
        message.save(update_fields=["done_at"])
    return True


def dispatch_outbox(*, now: datetime | None = None) -> dict[str, int]:
    """Run every pending message older than OUTBOX_DISPATCH_GRACE_SECONDS (their own task normally runs first) that
    has not failed OUTBOX_MAX_ATTEMPTS times. A failure is recorded on the row and the others still run."""
    now = now or timezone.now()
    pending = list(
        OutboxMessage.objects.filter(
            done_at=None,
            attempts__lt=settings.OUTBOX_MAX_ATTEMPTS,
            created_at__lte=now - timedelta(seconds=settings.OUTBOX_DISPATCH_GRACE_SECONDS),
        )
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[: settings.OUTBOX_DISPATCH_BATCH_SIZE]
    )
    done = failed = 0
    for message_id in pending:
        try:
            done += run_outbox_message(message_id=message_id)
        except Exception as error:
            failed += 1
            _record_failure(message_id, error)
    return {"done": done, "failed": failed}


def _record_failure(message_id: int, error: Exception) -> None:
    attempts = OutboxMessage.objects.filter(pk=message_id).values_list("attempts", flat=True).first() or 0
    OutboxMessage.objects.filter(pk=message_id).update(attempts=attempts + 1, last_error=repr(error)[:1000])
    log = logger.error if attempts + 1 >= settings.OUTBOX_MAX_ATTEMPTS else logger.warning
    log("Outbox message %s failed (attempt %d): %r", message_id, attempts + 1, error)
