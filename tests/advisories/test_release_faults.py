"""A database error in the middle of a release rolls the whole wave back: still scheduled, no delivery, no grant,
no audit event; the next run releases it completely."""

import pytest
from django.db import DatabaseError

from advisories import fanout, services, tasks
from advisories.models import AdvisoryGroupObjectPermission, AdvisoryStatus, Delivery, WaveStatus
from advisories.services import release as release_services
from core.levels import AccessLevel
from core.models import AuditEvent
from tests.factories import WaveFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def partners(make_partner):
    return [make_partner(level=AccessLevel.EARLY) for _ in range(3)]


def fail_once(monkeypatch, module, name):
    """Make `module.name` raise a DatabaseError on its first call only, after the work before it was done."""
    original = getattr(module, name)
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise DatabaseError("could not extend file: No space left on device")
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, failing)


# Two places: after the deliveries were inserted (granting), and at the very end (the audit event, after the wave
# was marked released and the advisory advanced).
FAILING_STEPS = pytest.mark.parametrize(
    ("module", "failing_step"),
    [(fanout, "grant_released_objects"), (release_services, "record_audit_event")],
    ids=["grant_released_objects", "record_audit_event"],
)


@FAILING_STEPS
def test_database_error_during_release_leaves_the_wave_scheduled_with_no_deliveries(
    monkeypatch, advisory, partners, module, failing_step
):
    wave = WaveFactory(advisory=advisory, level=AccessLevel.EARLY)
    fail_once(monkeypatch, module, failing_step)

    with pytest.raises(DatabaseError, match="No space left on device"):
        services.release_due_waves()

    wave.refresh_from_db()
    advisory.refresh_from_db()
    assert wave.status == WaveStatus.SCHEDULED
    assert wave.released_at is None
    assert advisory.status == AdvisoryStatus.SCHEDULED
    assert not Delivery.objects.exists()
    assert not AdvisoryGroupObjectPermission.objects.exists()
    assert not AuditEvent.objects.filter(action="wave.released").exists()


@FAILING_STEPS
def test_next_release_tick_releases_the_wave_once_after_a_database_error(
    monkeypatch, advisory, partners, module, failing_step
):
    wave = WaveFactory(advisory=advisory, level=AccessLevel.EARLY)
    fail_once(monkeypatch, module, failing_step)
    with pytest.raises(DatabaseError, match="No space left on device"):
        tasks.release_due_waves.delay()

    tasks.release_due_waves.delay()

    wave.refresh_from_db()
    assert wave.status == WaveStatus.RELEASED
    assert sorted(Delivery.objects.values_list("partner_id", flat=True)) == sorted(p.pk for p in partners)
    assert AuditEvent.objects.filter(action="wave.released").count() == 1
