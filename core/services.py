import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from core.models import AuditEvent, Heartbeat

# Any fixed number: the PostgreSQL advisory lock that serialises appends to the hash chain.
AUDIT_CHAIN_LOCK_ID = 7_411_202


def _lock_audit_chain():
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_CHAIN_LOCK_ID])
    # SQLite: transactions take the write lock up front (transaction_mode IMMEDIATE), which serialises appends.


def record_audit_event(*, actor, action: str, target=None, details: dict | None = None, ip_address=None) -> AuditEvent:
    """Append one event to the audit chain. Runs inside the caller's transaction, so it commits or rolls back
    with the change it records."""
    with transaction.atomic():
        _lock_audit_chain()
        last = AuditEvent.objects.order_by("-id").only("hash").first()
        event = AuditEvent(
            created_at=timezone.now(),
            actor=actor if actor is not None and actor.pk else None,
            actor_label=str(actor) if actor is not None else "system",
            action=action,
            target_type=target._meta.label if target is not None else "",
            target_id=str(target.pk) if target is not None else "",
            target_label=str(target)[:300] if target is not None else "",
            # Round-trip through JSON so the hashed form is exactly what the database returns later.
            details=json.loads(json.dumps(details or {}, cls=DjangoJSONEncoder)),
            ip_address=ip_address,
            previous_hash=last.hash if last else AuditEvent.GENESIS_HASH,
        )
        event.hash = event.compute_hash()
        event.save()
    return event


def record_heartbeat(*, name: str) -> None:
    """Note that the periodic job `name` is running now: one upsert, safe when several workers run it at once.
    Operational state, not an audited change."""
    Heartbeat.objects.bulk_create(
        [Heartbeat(name=name, beat_at=timezone.now())],
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=["beat_at"],
    )
