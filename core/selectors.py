from dataclasses import dataclass

from core.models import AuditEvent, Heartbeat


@dataclass(frozen=True)
class AuditChainReport:
    checked: int
    first_broken_id: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.first_broken_id is None


def verify_audit_chain(batch_size: int = 2000) -> AuditChainReport:
    """Recompute every hash in order; report the first event whose content or link does not match."""
    expected_previous = AuditEvent.GENESIS_HASH
    checked = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=batch_size):
        if event.previous_hash != expected_previous:
            return AuditChainReport(checked, event.id, "its previous hash does not match the event before it")
        if event.compute_hash() != event.hash:
            return AuditChainReport(checked, event.id, "its content does not match its hash")
        expected_previous = event.hash
        checked += 1
    return AuditChainReport(checked)


def last_heartbeat(name: str):
    """When the periodic job `name` last ran (None if never)."""
    return Heartbeat.objects.filter(name=name).values_list("beat_at", flat=True).first()
