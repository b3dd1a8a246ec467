"""Webhook endpoints, managed by an organisation's partner admins: register, rotate the secret, disable, enable,
delete and send a test event. Every change is permission-checked, one transaction and audited."""

import base64
import secrets
import uuid

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from advisories.models import WebhookEndpoint, WebhookEventType, WebhookMessage, WebhookMessageStatus
from advisories.webhooks import transport
from advisories.webhooks.events import event_payload, new_webhook_id, queue_sends
from advisories.webhooks.notifications import email_partner_admins_after_commit
from core.services import record_audit_event
from partners.models import PartnerStatus
from partners.selectors import admin_membership

MAX_ENDPOINTS_PER_PARTNER = 10


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
        email_partner_admins_after_commit(
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
        email_partner_admins_after_commit(
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
        disable_locked_endpoint(endpoint, reason=reason, actor=actor)
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
        email_partner_admins_after_commit(
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
            webhook_id=new_webhook_id(),
            event_type=WebhookEventType.TEST,
            payload=event_payload(WebhookEventType.TEST, now, {"endpoint": endpoint.pk, "requested_by": actor.email}),
            created_at=now,
        )
        record_audit_event(
            actor=actor,
            action="webhook_endpoint.test_sent",
            target=endpoint,
            details={"webhook_id": message.webhook_id},
        )
        transaction.on_commit(lambda: queue_sends([message.pk]))
    return message


def disable_locked_endpoint(endpoint: WebhookEndpoint, *, reason: str, actor=None) -> None:
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
