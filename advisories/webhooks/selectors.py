from django.db.models import Prefetch, QuerySet

from advisories.models import WebhookAttempt, WebhookEndpoint, WebhookMessage

LOG_LENGTH = 50


def webhook_endpoints_of(partner) -> QuerySet[WebhookEndpoint]:
    """The organisation's endpoints, oldest first, with their creators."""
    return WebhookEndpoint.objects.filter(partner=partner).select_related("created_by")


def webhook_log(endpoint: WebhookEndpoint, *, limit: int = LOG_LENGTH) -> list[WebhookMessage]:
    """The endpoint's latest events, newest first, each with its attempts in order (one query each)."""
    return list(
        endpoint.messages.prefetch_related(Prefetch("attempts", queryset=WebhookAttempt.objects.order_by("number")))[
            :limit
        ]
    )
