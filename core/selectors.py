from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from core import audit_chain
from core.models import AuditChainLink, AuditEvent, Heartbeat, OutboxMessage, SkippedTick

# Enough checkpoints to cover a day at the default interval; verify_audit --checkpoints changes it.
DEFAULT_CHECKPOINTS_CHECKED = 150


@dataclass
class AuditChainReport:
    """What `verify_audit_chain` found: `problems` name what is missing or wrong (empty when intact), `warnings` what
    limits the proof (e.g. no checkpoint to check truncation against)."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    first_broken_id: int | None = None
    pending: int = 0
    checkpoints_checked: int = 0
    latest_checkpoint: audit_chain.Checkpoint | None = None

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def problem(self) -> str:
        return self.problems[0] if self.problems else ""

    def broken(self, message: str, event_id: int | None = None) -> None:
        self.problems.append(message)
        if self.first_broken_id is None and event_id is not None:
            self.first_broken_id = event_id


def _checked_checkpoints(report: AuditChainReport, limit: int) -> list[audit_chain.Checkpoint]:
    checkpoints, unreadable = audit_chain.latest_checkpoints(limit)
    for problem in unreadable:
        report.broken(problem)
    valid = []
    for checkpoint in checkpoints:
        if checkpoint.signature_is_valid():
            valid.append(checkpoint)
        else:
            report.broken(
                f"checkpoint {checkpoint.name} does not carry a valid signature: forged, or signed with another key"
            )
    report.checkpoints_checked = len(valid)
    report.latest_checkpoint = max(valid, key=lambda c: (c.size, c.published_at), default=None)
    return valid


def _when(checkpoint: audit_chain.Checkpoint) -> str:
    return f"the checkpoint of {checkpoint.published_at:%Y-%m-%d %H:%M:%S} UTC ({checkpoint.name})"


def _check_link(report: AuditChainReport, link, event, *, expected_position: int, previous_hash: str, by_size) -> None:
    """Check one link: in its place, following the link before it, its event present and unchanged, and the head of
    every checkpoint signed at its size."""
    where = f"link {link.position} (event {link.event_id})"
    if link.position != expected_position:
        missing = f"{expected_position}" + (f" to {link.position - 1}" if link.position - 1 > expected_position else "")
        report.broken(f"links {missing} are missing: removed from the chain before {where}", link.event_id)
    elif link.previous_hash != previous_hash:
        report.broken(f"{where} does not follow the link before it: the chain is broken here", link.event_id)
    if event is None:
        report.broken(f"event {link.event_id} of link {link.position} is missing: deleted", link.event_id)
    elif audit_chain.link_hash(link, event) != link.hash:
        report.broken(
            f"{where} does not match its keyed hash: the event was changed after it was chained, or the "
            "chain was recomputed without the key",
            link.event_id,
        )
    for checkpoint in by_size.get(link.position, []):
        if checkpoint.head != link.hash:
            report.broken(
                f"{where} is not the link {_when(checkpoint)} signed: the history up to it was rewritten",
                link.event_id,
            )


def _check_links(report: AuditChainReport, by_size, batch_size: int) -> int:
    """Check every link in order, `batch_size` at a time; returns the chain's size."""
    expected_position, previous_hash = 1, AuditChainLink.GENESIS_HASH
    while True:
        links = list(AuditChainLink.objects.filter(position__gte=expected_position).order_by("position")[:batch_size])
        if not links:
            break
        events = AuditEvent.objects.in_bulk([link.event_id for link in links])
        for link in links:
            _check_link(
                report,
                link,
                events.get(link.event_id),
                expected_position=expected_position,
                previous_hash=previous_hash,
                by_size=by_size,
            )
            previous_hash, expected_position = link.hash, link.position + 1
            report.checked += 1
    return expected_position - 1


def _check_unlinked_events(report: AuditChainReport, *, now, grace: timedelta) -> None:
    """Events the sequencer left out of the chain longer than `grace` are a problem; younger ones are pending."""
    unlinked = AuditEvent.objects.filter(chain_link__isnull=True)
    overdue = unlinked.filter(created_at__lt=now - grace).order_by("id")
    overdue_count = overdue.count()
    if overdue_count:
        first = overdue.first()
        report.broken(
            f"{overdue_count} events are not in the chain {int(grace.total_seconds())} s after they were recorded "
            f"(first: event {first.pk} of {first.created_at:%Y-%m-%d %H:%M:%S} UTC): the sequencer is not running "
            "(beat task link_audit_events)",
            first.pk,
        )
    report.pending = unlinked.count() - overdue_count


def _check_truncation(report: AuditChainReport, valid_checkpoints, size: int) -> None:
    """A chain shorter than a checkpoint signed was truncated."""
    for checkpoint in sorted(valid_checkpoints, key=lambda c: c.size, reverse=True):
        if checkpoint.size > size:
            report.broken(
                f"the chain has {size} links but {_when(checkpoint)} signed {checkpoint.size}: the newest "
                f"{checkpoint.size - size} (or more) were removed (truncated)"
            )
            break


def _warn_uncovered_links(report: AuditChainReport, size: int) -> None:
    """Links newer than the latest checkpoint (or any link, without one) are not protected against truncation yet."""
    if report.latest_checkpoint is None:
        if size:
            report.warnings.append(
                "no signed checkpoint found: a truncation of the newest events cannot be detected "
                "(beat task publish_audit_checkpoint, or manage.py publish_audit_checkpoint)"
            )
    elif size > report.latest_checkpoint.size:
        report.warnings.append(
            f"links {report.latest_checkpoint.size + 1} to {size} are not covered by a checkpoint yet (latest: "
            f"{_when(report.latest_checkpoint)})"
        )


def verify_audit_chain(
    *,
    checkpoints: int = DEFAULT_CHECKPOINTS_CHECKED,
    grace: timedelta | None = None,
    now=None,
    batch_size: int = 2000,
) -> AuditChainReport:
    """Recompute every link of the keyed chain in order and compare it with the latest signed checkpoints published
    outside the database. Names each problem: a link missing or out of order, an event deleted, an event changed
    or the chain recomputed without the key, history rewritten under a checkpoint, a chain shorter than a
    checkpoint (truncated), events left out of the chain longer than `grace`, an unreadable or forged checkpoint."""
    report = AuditChainReport()
    now = now or timezone.now()
    grace = grace if grace is not None else timedelta(seconds=settings.AUDIT_LINK_GRACE_SECONDS)
    valid_checkpoints = _checked_checkpoints(report, checkpoints)
    by_size = defaultdict(list)
    for checkpoint in valid_checkpoints:
        by_size[checkpoint.size].append(checkpoint)
    size = _check_links(report, by_size, batch_size)
    _check_truncation(report, valid_checkpoints, size)
    _check_unlinked_events(report, now=now, grace=grace)
    _warn_uncovered_links(report, size)
    return report


def last_heartbeat(name: str):
    """When the periodic job `name` last ran (None if never)."""
    return Heartbeat.objects.filter(name=name).values_list("beat_at", flat=True).first()


def skipped_ticks(name: str, *, since):
    """How many messages of the periodic task `name` expired unrun since `since`."""
    return SkippedTick.objects.filter(name=name, skipped_at__gte=since).count()


def heartbeat_clock_skew(name: str) -> float | None:
    """The clock skew the periodic job `name` measured at its last run (None if never or on SQLite)."""
    return Heartbeat.objects.filter(name=name).values_list("clock_skew_seconds", flat=True).first()


def pending_outbox_messages(*, older_than) -> int:
    """Outbox messages (emails that follow a change) created before `older_than` and still not done."""
    return OutboxMessage.objects.filter(done_at=None, created_at__lt=older_than).count()
