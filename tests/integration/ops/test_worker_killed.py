"""A worker killed (SIGKILL) in the middle of a release fan-out leaves neither a half-released wave nor duplicate
deliveries: the release is one database transaction that dies with the worker's connection, and the next tick, on
another worker, releases the wave completely, once.

To catch the worker mid-release the test holds a SHARE lock on the audit log's table: the release inserts the
deliveries and grants, marks the wave released, and then waits for that lock to write its audit event, its last step.
"""

import json

import psycopg
import pytest
import redis
from django.utils import timezone

from advisories.models import AdvisoryGroupObjectPermission, Delivery, ReleaseWave, WaveStatus
from advisories.tasks import RELEASE_HEARTBEAT
from core.levels import AccessLevel
from core.models import AuditEvent
from core.selectors import last_heartbeat
from tests.factories import WaveFactory
from tests.integration.ops.conftest import (
    SHARED_REDIS_URL,
    STARTUP_TIMEOUT_SECONDS,
    database_url_for_subprocesses,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PARTNERS = 40
RELEASE_TIMEOUT_SECONDS = 30


def backend_waiting_for_audit_lock(session) -> int | None:
    """The PostgreSQL backend (pid) blocked on the lock that keeps rows out of the audit log's table, if any."""
    row = session.execute(
        "SELECT pid FROM pg_locks WHERE locktype = 'relation' AND NOT granted "
        "AND relation = 'core_auditevent'::regclass AND mode = 'RowExclusiveLock'"
    ).fetchone()
    return row[0] if row else None


def unacknowledged_tasks() -> list[str]:
    """Task names of the messages the broker handed to a worker that has not acknowledged them."""
    broker = redis.Redis.from_url(SHARED_REDIS_URL)
    return [json.loads(raw)[0]["headers"]["task"] for raw in broker.hvals("unacked")]


def backend_alive(session, pid: int) -> bool:
    return session.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone() is not None


def test_worker_killed_mid_fan_out_leaves_no_half_release_and_the_next_worker_releases_once(
    processes, make_partner, advisory
):
    partners = [make_partner(level=AccessLevel.EARLY) for _ in range(PARTNERS)]
    processes.worker("worker-1", "--concurrency", "1")
    processes.beat()
    started = timezone.now()
    wait_until(
        lambda: (last_heartbeat(RELEASE_HEARTBEAT) or started) > started,
        timeout=STARTUP_TIMEOUT_SECONDS,
        what="a first release tick",
        processes=processes,
    )

    with (
        psycopg.connect(database_url_for_subprocesses(), autocommit=True) as session,
        psycopg.connect(database_url_for_subprocesses()) as audit_lock,
    ):
        audit_lock.execute("LOCK TABLE core_auditevent IN SHARE MODE")
        wave = WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=timezone.now())
        releasing_backend = wait_until(
            lambda: backend_waiting_for_audit_lock(session),
            timeout=RELEASE_TIMEOUT_SECONDS,
            what="the worker to be in the middle of releasing the wave",
            processes=processes,
        )
        # Mid-release: the deliveries exist in the worker's transaction, invisible to everyone else.
        assert not Delivery.objects.exists()

        processes.kill("worker-1")
        # acks_late: the message of the interrupted tick was not acknowledged, so the broker still holds it.
        assert "advisories.tasks.release_due_waves" in unacknowledged_tasks()
        audit_lock.rollback()
        # The orphaned transaction gets the lock, finds its client gone, and is rolled back.
        wait_until(
            lambda: not backend_alive(session, releasing_backend),
            timeout=30,
            what="the killed worker's database session to end",
        )

    wave.refresh_from_db()
    assert wave.status == WaveStatus.SCHEDULED
    assert wave.released_at is None
    assert not Delivery.objects.exists()
    assert not AdvisoryGroupObjectPermission.objects.exists()
    assert not AuditEvent.objects.filter(action="wave.released").exists()

    processes.worker("worker-2", "--concurrency", "1")
    wait_until(
        lambda: ReleaseWave.objects.filter(pk=wave.pk, status=WaveStatus.RELEASED).exists(),
        timeout=RELEASE_TIMEOUT_SECONDS + 30,
        what="the next worker to release the wave",
        processes=processes,
    )
    assert sorted(Delivery.objects.filter(wave=wave).values_list("partner_id", flat=True)) == sorted(
        partner.pk for partner in partners
    )
    assert AuditEvent.objects.filter(action="wave.released").count() == 1
