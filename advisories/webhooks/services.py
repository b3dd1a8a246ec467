"""Webhook endpoints, managed by partner admins, and the events sent to them; the names callers use, from:

- `advisories.webhooks.endpoints`: the partner admins' changes to their endpoints (and a test event);
- `advisories.webhooks.events`: the events and the outbox they are queued in, once per endpoint and change;
- `advisories.webhooks.sending`: one signed attempt to send an event, and disabling an endpoint that keeps failing.
"""

from advisories.webhooks.endpoints import (
    MAX_ENDPOINTS_PER_PARTNER,
    create_webhook_endpoint,
    delete_webhook_endpoint,
    disable_webhook_endpoint,
    enable_webhook_endpoint,
    new_webhook_secret,
    rotate_webhook_secret,
    send_test_event,
)
from advisories.webhooks.events import (
    advisory_event_data,
    queue_advisory_change_events,
    queue_delivery_events,
    queue_publication_events,
    requeue_stalled_webhook_messages,
)
from advisories.webhooks.sending import WebhookAttemptFailed, send_webhook_message, signature_headers

__all__ = [
    "MAX_ENDPOINTS_PER_PARTNER",
    "WebhookAttemptFailed",
    "advisory_event_data",
    "create_webhook_endpoint",
    "delete_webhook_endpoint",
    "disable_webhook_endpoint",
    "enable_webhook_endpoint",
    "new_webhook_secret",
    "queue_advisory_change_events",
    "queue_delivery_events",
    "queue_publication_events",
    "requeue_stalled_webhook_messages",
    "rotate_webhook_secret",
    "send_test_event",
    "send_webhook_message",
    "signature_headers",
]
