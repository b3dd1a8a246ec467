"""Webhook endpoints, managed by partner admins, and the events sent to them.

Events go through an outbox: `WebhookMessage` is one event for one endpoint, unique per endpoint and change
(`event_key`), so queueing a change twice creates nothing; its `webhook_id` is the idempotency key the receiver
sees on every attempt. `send_webhook_message` makes one attempt, logs it, and says whether another is due; the
Celery task retries with exponential backoff. Payloads carry the advisory's identifier, level and links, never
embargoed content: the title (and CVE ids) only once the advisory is public."""

import base64
import json
import logging
import secrets
import uuid
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max, Q
from django.urls import reverse
from django.utils import timezone
from standardwebhooks import Webhook

from advisories.models import (
    Advisory,
    AdvisoryStatus,
    Delivery,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookEventType,
    WebhookMessage,
    WebhookMessageStatus,
)
from advisories.webhooks import transport
from advisories.webhooks.notifications import email_partner_admins
from core.levels import AccessLevel
from core.services import record_audit_event
from partners.models import PartnerStatus
from partners.selectors import admin_membership

MAX_ENDPOINTS_PER_PARTNER = 10

logger = logging.getLogger(__name__)


class WebhookAttemptFailed(Exception):
    """An attempt failed and was logged, and another is due: the Celery task retries on it."""


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _require_partner_admin(actor, endpoint: WebhookEndpoint | None = None):
    membership = admin_membership(actor)
    if membership is None or (endpoint is not None and endpoint.partner_id != membership.partner_id):
        raise PermissionDenied("Only the organisation's partner admins manage its webhooks.")
    return membership


def _require_active_partner(partner) -> None:
    if partner.status != PartnerStatus.ACTIVE:
        raise ValidationError("A suspended or removed organisation cannot change its webhooks.")


def _checked_url(url: str) -> str:
    url = (url or "").strip()
    try:
        transport.resolve_target(url)
    except ValidationError as refusal:
        raise ValidationError({"url": refusal.messages}) from None
    return url


def _email_after_commit(partner_id: int, subject: str, lines: list[str]) -> None:
    transaction.on_commit(lambda: email_partner_admins(partner_id=partner_id, subject=subject, lines=lines))


# Endpoints (partner admins) ---------------------------------------------------------------------------------------


def create_webhook_endpoint(*, actor, url: str, description: str = "") -> tuple[WebhookEndpoint, str]:
    """Register an endpoint for the actor's organisation. Returns it and its secret, to be shown this once.
    Refuses anyone but an active partner admin of an active organisation, a URL that is not https or whose host
    resolves to a non-public address, and more than MAX_ENDPOINTS_PER_PARTNER endpoints. Audited and emailed to
    the organisation's admins."""
    membership = _require_partner_admin(actor)
    partner = membership.partner
    _require_active_partner(partner)
    url = _checked_url(url)
    secret = new_webhook_secret()
    with transaction.atomic():
        if WebhookEndpoint.objects.select_for_update().filter(partner=partner).count() >= MAX_ENDPOINTS_PER_PARTNER:
            raise ValidationError(f"An organisation may have at most {MAX_ENDPOINTS_PER_PARTNER} webhook endpoints.")
        endpoint = WebhookEndpoint(
            partner=partner, url=url, description=(description or "").strip()[:100], secret=secret, created_by=actor
        )
        endpoint.full_clean()
        endpoint.save()
        record_audit_event(
            actor=actor, action="webhook_endpoint.created", target=endpoint, details={"partner": partner.pk, "url": url}
        )
        _email_after_commit(
            partner.pk,
            "A webhook endpoint was added",
            [f"{actor.email} added the webhook endpoint {url} to {partner}."],
        )
    return endpoint, secret


def rotate_webhook_secret(*, actor, endpoint: WebhookEndpoint) -> tuple[WebhookEndpoint, str]:
    """Give the endpoint a new secret, returned to be shown this once. Events are signed with both the new and the
    previous secret for WEBHOOK_SECRET_GRACE_HOURS, so a receiver can switch without losing one; a second rotation
    within that time ends the first secret's grace. Audited and emailed."""
    _require_partner_admin(actor, endpoint)
    _require_active_partner(endpoint.partner)
    secret = new_webhook_secret()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        now = timezone.now()
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = now + settings.WEBHOOK_SECRET_GRACE
        endpoint.secret = secret
        endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
        record_audit_event(
            actor=actor,
            action="webhook_endpoint.secret_rotated",
            target=endpoint,
            details={"url": endpoint.url, "previous_valid_until": endpoint.previous_secret_expires_at.isoformat()},
        )
        _email_after_commit(
            endpoint.partner_id,
            "A webhook secret was rotated",
            [
                f"{actor.email} rotated the secret of the webhook endpoint {endpoint.url}.",
                "The previous secret also signs events until "
                f"{endpoint.previous_secret_expires_at:%Y-%m-%d %H:%M} UTC.",
            ],
        )
    return endpoint, secret


def disable_webhook_endpoint(
    *, actor, endpoint: WebhookEndpoint, reason: str = "Disabled by a partner admin."
) -> WebhookEndpoint:
    """Stop sending to the endpoint; events still pending for it are cancelled. Disabling a disabled endpoint
    changes nothing. Audited."""
    _require_partner_admin(actor, endpoint)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        if not endpoint.is_active:
            return endpoint
        _disable(endpoint, reason=reason, actor=actor)
    return endpoint


def enable_webhook_endpoint(*, actor, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Send to a disabled endpoint again (its URL checked again, its failure count reset); only later events
    reach it. Audited."""
    _require_partner_admin(actor, endpoint)
    _require_active_partner(endpoint.partner)
    _checked_url(endpoint.url)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        if endpoint.is_active:
            return endpoint
        endpoint.is_active, endpoint.disabled_at, endpoint.disabled_reason = True, None, ""
        endpoint.consecutive_failures = 0
        endpoint.save(update_fields=["is_active", "disabled_at", "disabled_reason", "consecutive_failures"])
        record_audit_event(
            actor=actor, action="webhook_endpoint.enabled", target=endpoint, details={"url": endpoint.url}
        )
    return endpoint


def delete_webhook_endpoint(*, actor, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint with its event log (the audit log keeps that it existed). Audited and emailed."""
    _require_partner_admin(actor, endpoint)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        record_audit_event(
            actor=actor,
            action="webhook_endpoint.deleted",
            target=endpoint,
            details={"url": endpoint.url, "events": endpoint.messages.count()},
        )
        _email_after_commit(
            endpoint.partner_id,
            "A webhook endpoint was deleted",
            [f"{actor.email} deleted the webhook endpoint {endpoint.url} of {endpoint.partner}."],
        )
        endpoint.delete()


def send_test_event(*, actor, endpoint: WebhookEndpoint) -> WebhookMessage:
    """Queue a `webhook.test` event to an active endpoint (each request is its own event). Audited."""
    _require_partner_admin(actor, endpoint)
    _require_active_partner(endpoint.partner)
    if not endpoint.is_active:
        raise ValidationError("This endpoint is disabled: enable it first.")
    now = timezone.now()
    with transaction.atomic():
        message = WebhookMessage.objects.create(
            endpoint=endpoint,
            event_key=f"test:{uuid.uuid4().hex}",
            webhook_id=_new_webhook_id(),
            event_type=WebhookEventType.TEST,
            payload=_payload(WebhookEventType.TEST, now, {"endpoint": endpoint.pk, "requested_by": actor.email}),
            created_at=now,
        )
        record_audit_event(
            actor=actor,
            action="webhook_endpoint.test_sent",
            target=endpoint,
            details={"webhook_id": message.webhook_id},
        )
        transaction.on_commit(lambda: _queue_sends([message.pk]))
    return message


def _disable(endpoint: WebhookEndpoint, *, reason: str, actor=None) -> None:
    """Disable a locked endpoint and cancel its pending events, in the caller's transaction."""
    now = timezone.now()
    endpoint.is_active, endpoint.disabled_at, endpoint.disabled_reason = False, now, reason[:200]
    endpoint.save(update_fields=["is_active", "disabled_at", "disabled_reason"])
    endpoint.messages.filter(status=WebhookMessageStatus.PENDING).update(
        status=WebhookMessageStatus.CANCELLED, finished_at=now
    )
    record_audit_event(
        actor=actor,
        action="webhook_endpoint.disabled",
        target=endpoint,
        details={"url": endpoint.url, "reason": reason},
    )


# Events (the outbox) ----------------------------------------------------------------------------------------------


def _new_webhook_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def _payload(event_type: str, at: datetime, data: dict) -> dict:
    return {"type": event_type, "timestamp": at.isoformat().replace("+00:00", "Z"), "data": data}


def advisory_event_data(advisory: Advisory, *, level: int, **extra) -> dict:
    """What an event says about an advisory: identifier, status, the organisation's level and the links to it.
    The title and CVE ids only once the advisory is public: before that they are embargoed content."""
    base = settings.FOREWARN_PORTAL_URL.rstrip("/")
    identifier = advisory.identifier
    data = {
        "advisory": identifier,
        "status": advisory.status,
        "level": AccessLevel(level).label,
        "links": {
            "portal": base + reverse("advisories:detail", args=[identifier]),
            "api": base + reverse("api:advisory", kwargs={"identifier": identifier}),
            "csaf": base + reverse("api:csaf", kwargs={"identifier": identifier}),
        },
    }
    if advisory.status == AdvisoryStatus.PUBLIC:
        data["title"] = advisory.title
        data["cve_ids"] = list(advisory.cve_ids or [])
    return {**data, **extra}


def _active_endpoints(partner_ids) -> dict[int, list[WebhookEndpoint]]:
    endpoints = {}
    for endpoint in WebhookEndpoint.objects.filter(
        partner_id__in=partner_ids, is_active=True, partner__status=PartnerStatus.ACTIVE
    ):
        endpoints.setdefault(endpoint.partner_id, []).append(endpoint)
    return endpoints


def _enqueue(messages: list[WebhookMessage]) -> list[int]:
    """Insert the messages, skipping any whose (endpoint, change) is already there, and queue the new ones after
    commit. Returns the new message ids."""
    if not messages:
        return []
    with transaction.atomic():
        WebhookMessage.objects.bulk_create(messages, ignore_conflicts=True, batch_size=1000)
        # Only the rows actually inserted carry the webhook ids generated here.
        message_ids = list(
            WebhookMessage.objects.filter(webhook_id__in=[message.webhook_id for message in messages]).values_list(
                "pk", flat=True
            )
        )
        transaction.on_commit(lambda: _queue_sends(message_ids))
    return message_ids


def _queue_sends(message_ids: list[int]) -> None:
    from advisories.tasks import send_webhook_message

    for message_id in message_ids:
        try:
            send_webhook_message.delay(message_id)
        except Exception:  # the broker is down: the message row waits for requeue_stalled_webhook_messages
            logger.warning("Broker unavailable: webhook message %s left to the stalled-message requeue", message_id)
            return


def queue_delivery_events(delivery_ids: list[int]) -> list[int]:
    """One `advisory.delivered` event per delivery, to each active endpoint of its (active) organisation. Called
    after the deliveries commit; calling it again for the same deliveries creates nothing. Returns the new
    message ids."""
    now = timezone.now()
    deliveries = list(
        Delivery.objects.filter(
            pk__in=delivery_ids,
            partner__status=PartnerStatus.ACTIVE,
            partner__webhook_endpoints__is_active=True,
        )
        .select_related("advisory")
        .distinct()
    )
    endpoints = _active_endpoints({delivery.partner_id for delivery in deliveries})
    messages = [
        WebhookMessage(
            endpoint=endpoint,
            event_key=f"delivery:{delivery.pk}",
            webhook_id=_new_webhook_id(),
            event_type=WebhookEventType.DELIVERED,
            payload=_payload(
                WebhookEventType.DELIVERED,
                now,
                advisory_event_data(
                    delivery.advisory, level=delivery.level, delivered_at=delivery.delivered_at.isoformat()
                ),
            ),
            created_at=now,
        )
        for delivery in deliveries
        for endpoint in endpoints.get(delivery.partner_id, [])
    ]
    return _enqueue(messages)


def queue_advisory_change_events(*, advisory_id: int, event_type: str, change: str, change_id: str) -> list[int]:
    """One event (`advisory.updated` or `advisory.withdrawn`) per change of an advisory, to each active endpoint of
    every active organisation that holds a delivery of it. `change` names what changed (the audit action) and
    `change_id` identifies this change (its audit event), so that it is sent once. Returns the new message ids."""
    now = timezone.now()
    advisory = Advisory.objects.get(pk=advisory_id)
    held = dict(
        Delivery.objects.filter(advisory_id=advisory_id, partner__status=PartnerStatus.ACTIVE)
        .values("partner_id")
        .annotate(level=Max("level"))
        .values_list("partner_id", "level")
    )
    endpoints = _active_endpoints(held)
    messages = [
        WebhookMessage(
            endpoint=endpoint,
            event_key=f"{event_type}:{change_id}",
            webhook_id=_new_webhook_id(),
            event_type=event_type,
            payload=_payload(event_type, now, advisory_event_data(advisory, level=held[partner_id], change=change)),
            created_at=now,
        )
        for partner_id, partner_endpoints in endpoints.items()
        for endpoint in partner_endpoints
    ]
    return _enqueue(messages)


def queue_publication_events(*, advisory_id: int) -> list[int]:
    """One `advisory.published` event when an advisory becomes public, to each active endpoint of every active
    organisation (the public archive is open to all of them). Returns the new message ids."""
    now = timezone.now()
    advisory = Advisory.objects.get(pk=advisory_id)
    if advisory.status != AdvisoryStatus.PUBLIC:
        return []
    endpoints = WebhookEndpoint.objects.filter(is_active=True, partner__status=PartnerStatus.ACTIVE)
    data = advisory_event_data(advisory, level=AccessLevel.GENERIC)
    messages = [
        WebhookMessage(
            endpoint=endpoint,
            event_key=f"published:{advisory_id}",
            webhook_id=_new_webhook_id(),
            event_type=WebhookEventType.PUBLISHED,
            payload=_payload(WebhookEventType.PUBLISHED, now, data),
            created_at=now,
        )
        for endpoint in endpoints
    ]
    return _enqueue(messages)


def requeue_stalled_webhook_messages(*, now: datetime | None = None) -> int:
    """Queue again the pending events whose last attempt (or creation) is older than WEBHOOK_STALLED_AFTER: their
    task message was lost (a broker restart, a worker killed while it waited to retry). The outbox, not the broker,
    says what is still to send; an event already sent is never sent again. Returns how many were queued."""
    cutoff = (now or timezone.now()) - settings.WEBHOOK_STALLED_AFTER
    stalled = list(
        WebhookMessage.objects.filter(status=WebhookMessageStatus.PENDING, created_at__lt=cutoff)
        .annotate(last_attempt_at=Max("attempts__attempted_at"))
        .filter(Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lt=cutoff))
        .order_by("created_at")
        .values_list("pk", flat=True)[:1000]
    )
    _queue_sends(stalled)
    return len(stalled)


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
    endpoint = WebhookEndpoint.objects.select_for_update().select_related("partner").get(pk=endpoint_id)
    endpoint.consecutive_failures = F("consecutive_failures") + 1
    endpoint.save(update_fields=["consecutive_failures"])
    endpoint.refresh_from_db(fields=["consecutive_failures"])
    limit = settings.WEBHOOK_FAILURE_LIMIT
    if not endpoint.is_active or endpoint.consecutive_failures < limit:
        return False
    _disable(endpoint, reason=f"Disabled after {limit} failed attempts in a row.")
    _email_after_commit(
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
