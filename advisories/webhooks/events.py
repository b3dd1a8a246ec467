"""Webhook events and the outbox they go through: `WebhookMessage` is one event for one endpoint, unique per endpoint
and change (`event_key`), so queueing a change twice creates nothing; its `webhook_id` is the idempotency key the
receiver sees on every attempt. Payloads carry the advisory's identifier, level and links, never embargoed content:
the title (and CVE ids) only once the advisory is public."""

import uuid
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone

from advisories.models import (
    Advisory,
    AdvisoryStatus,
    Delivery,
    WebhookEndpoint,
    WebhookEventType,
    WebhookMessage,
    WebhookMessageStatus,
)
from advisories.signals import webhook_messages_to_send
from core.levels import AccessLevel
from partners.models import PartnerStatus


def new_webhook_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def event_payload(event_type: str, at: datetime, data: dict) -> dict:
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
        transaction.on_commit(lambda: queue_sends(message_ids))
    return message_ids


def queue_sends(message_ids: list[int]) -> None:
    """Hand the messages to the broker (advisories/receivers.py); a message the broker does not take waits for
    `requeue_stalled_webhook_messages`."""
    webhook_messages_to_send.send(sender=WebhookMessage, message_ids=message_ids)


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
            webhook_id=new_webhook_id(),
            event_type=WebhookEventType.DELIVERED,
            payload=event_payload(
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
            webhook_id=new_webhook_id(),
            event_type=event_type,
            payload=event_payload(
                event_type, now, advisory_event_data(advisory, level=held[partner_id], change=change)
            ),
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
            webhook_id=new_webhook_id(),
            event_type=WebhookEventType.PUBLISHED,
            payload=event_payload(WebhookEventType.PUBLISHED, now, data),
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
    queue_sends(stalled)
    return len(stalled)
