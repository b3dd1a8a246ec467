"""Signed webhooks to partner organisations (advisories/webhooks/, docs/api.md): endpoints, messages and
delivery attempts."""

from django.conf import settings
from django.db import models


class WebhookEndpoint(models.Model):
    """An HTTPS address of a partner organisation that receives signed events (Standard Webhooks). The secret signs
    (HMAC-SHA256), so it is stored as it is shown, once, to the admin who creates or rotates it; after a rotation
    the previous secret also signs until `previous_secret_expires_at` (a second signature in the header)."""

    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=100, blank=True)
    secret = models.CharField(max_length=80, editable=False)
    previous_secret = models.CharField(max_length=80, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["partner", "is_active"])]

    def __str__(self):
        return f"{self.partner}: {self.url}"


class WebhookEventType(models.TextChoices):
    DELIVERED = "advisory.delivered", "Advisory delivered"
    UPDATED = "advisory.updated", "Advisory changed"
    WITHDRAWN = "advisory.withdrawn", "Advisory withdrawn"
    PUBLISHED = "advisory.published", "Advisory public"
    TEST = "webhook.test", "Test event"


class WebhookMessageStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class WebhookMessage(models.Model):
    """The outbox: one event for one endpoint. `event_key` names the change (a delivery, an audited change, a
    publication), so that queueing it again creates nothing; `webhook_id` is the idempotency key the receiver sees,
    the same on every attempt."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="messages")
    event_key = models.CharField(max_length=100)
    webhook_id = models.CharField(max_length=40, editable=False)
    event_type = models.CharField(max_length=30, choices=WebhookEventType.choices)
    payload = models.JSONField()
    status = models.CharField(max_length=20, choices=WebhookMessageStatus.choices, default=WebhookMessageStatus.PENDING)
    attempt_count = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_key"], name="one_webhook_message_per_event"),
            models.UniqueConstraint(fields=["webhook_id"], name="unique_webhook_id"),
        ]
        indexes = [models.Index(fields=["endpoint", "created_at"])]

    def __str__(self):
        return f"{self.webhook_id} {self.event_type} to {self.endpoint_id}"


class WebhookAttempt(models.Model):
    """One HTTP attempt to send a message: the response's status code (none when no response came), how long it
    took, and the error."""

    message = models.ForeignKey(WebhookMessage, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["message", "number"], name="one_webhook_attempt_per_number")]

    def __str__(self):
        return f"attempt {self.number} of {self.message_id}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
