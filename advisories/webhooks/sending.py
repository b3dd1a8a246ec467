"""Sending one webhook event: `send_webhook_message` makes one attempt, signed the Standard Webhooks way, logs it
and says whether another is due (the Celery task retries with exponential backoff). Repeated failures disable the
endpoint."""

import json
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from standardwebhooks import Webhook

from advisories.models import WebhookAttempt, WebhookEndpoint, WebhookMessage, WebhookMessageStatus
from advisories.webhooks import transport
from advisories.webhooks.endpoints import disable_locked_endpoint
from advisories.webhooks.notifications import email_partner_admins_after_commit
from partners.models import PartnerStatus


class WebhookAttemptFailed(Exception):
    """An attempt failed and was logged, and another is due: the Celery task retries on it."""


def signature_headers(endpoint: WebhookEndpoint, *, webhook_id: str, at: datetime, body: str) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt: signed with the current secret, and with the previous one
    too while its grace period lasts."""
    secrets_in_use = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > at:
        secrets_in_use.append(endpoint.previous_secret)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(
            Webhook(secret).sign(msg_id=webhook_id, timestamp=at, data=body) for secret in secrets_in_use
        ),
    }


def send_webhook_message(*, message_id: int) -> str:
    """Make one attempt to send a pending message and log it. A message already sent, failed or cancelled, or
    locked by a concurrent attempt, is left alone (so a redelivered task never sends twice); a message whose
    endpoint was disabled or whose organisation is no longer active is cancelled without a request. A failed
    attempt counts against the endpoint, which is disabled (and its admins emailed) after
    WEBHOOK_FAILURE_LIMIT consecutive failures; the message fails for good after WEBHOOK_MAX_ATTEMPTS.
    Returns the message's status; raises WebhookAttemptFailed, after the attempt is committed, when another is
    due."""
    with transaction.atomic():
        message = (
            WebhookMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint__partner")
            .filter(pk=message_id)
            .first()
        )
        if message is None:
            return "locked"
        if message.status != WebhookMessageStatus.PENDING:
            return message.status
        endpoint, now = message.endpoint, timezone.now()
        if not endpoint.is_active or endpoint.partner.status != PartnerStatus.ACTIVE:
            message.status, message.finished_at = WebhookMessageStatus.CANCELLED, now
            message.save(update_fields=["status", "finished_at"])
            return message.status
        body = json.dumps(message.payload, separators=(",", ":"), sort_keys=True)
        headers = signature_headers(endpoint, webhook_id=message.webhook_id, at=now, body=body)
        outcome = transport.post(endpoint.url, body=body.encode(), headers=headers)
        message.attempt_count += 1
        WebhookAttempt.objects.create(
            message=message,
            number=message.attempt_count,
            attempted_at=now,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
            error=outcome.error,
        )
        if outcome.succeeded:
            message.status, message.finished_at = WebhookMessageStatus.DELIVERED, timezone.now()
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0)
        elif _count_failure(endpoint.pk) or message.attempt_count >= settings.WEBHOOK_MAX_ATTEMPTS:
            message.status, message.finished_at = WebhookMessageStatus.FAILED, timezone.now()
        message.save(update_fields=["status", "attempt_count", "finished_at"])
    if message.status == WebhookMessageStatus.PENDING:
        raise WebhookAttemptFailed(f"Attempt {message.attempt_count} of {message.webhook_id} failed: {outcome.error}")
    return message.status


def _count_failure(endpoint_id: int) -> bool:
    """Count a failed attempt against the endpoint; True when that disabled it."""
    endpoint = WebhookEndpoint.objects.select_for_update(of=("self",)).select_related("partner").get(pk=endpoint_id)
    endpoint.consecutive_failures = F("consecutive_failures") + 1
    endpoint.save(update_fields=["consecutive_failures"])
    endpoint.refresh_from_db(fields=["consecutive_failures"])
    limit = settings.WEBHOOK_FAILURE_LIMIT
    if not endpoint.is_active or endpoint.consecutive_failures < limit:
        return False
    disable_locked_endpoint(endpoint, reason=f"Disabled after {limit} failed attempts in a row.")
    email_partner_admins_after_commit(
        endpoint.partner_id,
        "A webhook endpoint was disabled after repeated failures",
        [
            f"Forewarn disabled the webhook endpoint {endpoint.url} of {endpoint.partner}: its last {limit} "
            "delivery attempts failed.",
            "Events are no longer sent to it. Fix the receiver, then enable the endpoint again in the portal; "
            "the attempt log there shows each error.",
        ],
    )
    return True
