"""Signed webhooks (docs/api.md, "Webhooks"): partner admins register HTTPS endpoints; deliveries, changes of an
advisory the organisation holds, and public releases become events in an outbox (one per endpoint and change),
sent by a Celery task signed per the Standard Webhooks specification, retried with backoff, logged per attempt."""
