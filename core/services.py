import json
import logging
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from core import audit_chain
from core.clock import clock_skew_seconds
from core.models import AuditChainLink, AuditEvent, Heartbeat, SkippedTick

logger = logging.getLogger(__name__)

# Any fixed number: the PostgreSQL advisory lock held by the one sequencer that links events into the chain. Only
# the sequencer takes it, in a transaction of its own that reads committed events and inserts links: it never waits
# for a row lock, so it can never be part of a deadlock (docs/audit.md, "Lock order").
AUDIT_SEQUENCER_LOCK_ID = 7_411_203
# Events committed this long ago or less are looked for on every run; older ones only by a full sweep. An event
# whose transaction stays open longer than this is linked by the next checkpoint run, which sweeps everything.
LINK_LOOKBACK = timedelta(hours=1)
LINK_BATCH_SIZE = 1000


def record_audit_event(*, actor, action: str, target=None, details: dict | None = None, ip_address=None) -> AuditEvent:
    """Append one event to the audit log, in the caller's transaction, so it commits or rolls back with the change
    it records. Takes no lock that anyone else holds: the event is inserted unchained, and linked into the keyed
    chain by the sequencer after commit (and by the beat task `link_audit_events` if that run was skipped)."""
    event = AuditEvent(
        created_at=timezone.now(),
        actor=actor if actor is not None and actor.pk else None,
        actor_label=str(actor) if actor is not None else "system",
        action=action,
        target_type=target._meta.label if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=str(target)[:300] if target is not None else "",
        # Round-trip through JSON so the stored form is plain JSON whatever the caller passed (dates, decimals).
        details=json.loads(json.dumps(details or {}, cls=DjangoJSONEncoder)),
        ip_address=ip_address,
    )
    event.save()
    _link_after_commit()
    return event


def _link_soon() -> None:
    link_audit_events(wait=False)


def _link_after_commit() -> None:
    """Once per transaction: after commit, link what is waiting (skipped if another sequencer is running; that run
    or the beat task links it). A failure here never reaches the caller, whose change is committed."""
    # Already registered at this level or an enclosing one: that callback runs if and only if this event commits.
    current = set(connection.savepoint_ids)
    if any(function is _link_soon and savepoints <= current for savepoints, function, _ in connection.run_on_commit):
        return
    transaction.on_commit(_link_soon, robust=True)


def _take_sequencer_lock(*, wait: bool) -> bool:
    if connection.vendor != "postgresql":
        # SQLite: the transaction took the database's write lock when it began (transaction_mode IMMEDIATE).
        return True
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_SEQUENCER_LOCK_ID])
            return True
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [AUDIT_SEQUENCER_LOCK_ID])
        return cursor.fetchone()[0]


def link_audit_events(*, wait: bool = True, full_sweep: bool = False) -> int:
    """The sequencer: link every committed event that is not in the chain yet, in id order, each link keyed with
    FOREWARN_AUDIT_CHAIN_KEY over its position, the previous link and the event. Runs in transactions of its own,
    never inside the caller's: a caller holding row locks must not wait for it. `wait=False` gives up at once when
    another sequencer runs. `full_sweep` looks at every event, not only recent ones. Returns how many it linked."""
    linked = 0
    while True:
        with transaction.atomic(durable=True):
            if not _take_sequencer_lock(wait=wait):
                return linked
            batch = _link_batch(full_sweep=full_sweep)
        linked += batch
        if batch == 0:
            return linked
        # Later batches may as well wait: the lock is ours to take again, nobody waits on this run.
        wait = True


def _link_batch(*, full_sweep: bool) -> int:
    head = AuditChainLink.objects.order_by("-position").first()
    unlinked = AuditEvent.objects.filter(chain_link__isnull=True)
    if not full_sweep:
        newest_linked = AuditChainLink.objects.aggregate(newest=Max("event_id"))["newest"] or 0
        unlinked = unlinked.filter(Q(id__gt=newest_linked) | Q(created_at__gte=timezone.now() - LINK_LOOKBACK))
    events = list(unlinked.order_by("id")[:LINK_BATCH_SIZE])
    position, previous_hash = (head.position, head.hash) if head else (0, AuditChainLink.GENESIS_HASH)
    now = timezone.now()
    links = []
    for event in events:
        position += 1
        link = AuditChainLink(position=position, event=event, previous_hash=previous_hash, linked_at=now)
        link.hash = audit_chain.link_hash(link, event)
        links.append(link)
        previous_hash = link.hash
    AuditChainLink.objects.bulk_create(links)
    return len(links)


def publish_audit_checkpoint(*, now=None) -> audit_chain.Checkpoint | None:
    """Link what is waiting (every event, however old), then sign the chain's size and head and publish them
    outside the database (checkpoint storage and the `forewarn.audit` log). Publishes nothing when the chain is
    empty or has not grown since the latest checkpoint."""
    link_audit_events(full_sweep=True)
    head = AuditChainLink.objects.order_by("-position").first()
    if head is None:
        return None
    latest, _problems = audit_chain.latest_checkpoints(limit=1)
    if latest and latest[0].size == head.position and latest[0].head == head.hash:
        return None
    checkpoint = audit_chain.sign_checkpoint(size=head.position, head=head.hash, at=now or timezone.now())
    audit_chain.publish_checkpoint(checkpoint)
    return checkpoint


def record_skipped_tick(*, name: str) -> None:
    """Note that a message of the periodic task `name` expired unrun. Operational state, not an audited change."""
    SkippedTick.objects.create(name=name, skipped_at=timezone.now())
    logger.warning("Periodic task %s expired before a worker took it: that tick is skipped", name)


def record_heartbeat(*, name: str) -> None:
    """Note that the periodic job `name` is running now, with this process's clock skew against the database's:
    one upsert, safe when several workers run it at once. Operational state, not an audited change."""
    skew = clock_skew_seconds()
    if skew is not None and abs(skew) > settings.FOREWARN_MAX_CLOCK_SKEW_SECONDS:
        logger.warning("This node's clock is %+.3f s off the database's (%s)", skew, name)
    Heartbeat.objects.bulk_create(
        [Heartbeat(name=name, beat_at=timezone.now(), clock_skew_seconds=skew)],
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=["beat_at", "clock_skew_seconds"],
    )
