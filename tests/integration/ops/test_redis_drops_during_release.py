"""Redis (the broker) goes away while a release runs: the release commits, its notice batch cannot be handed to the
broker (logged, not an error), the worker keeps running, and once Redis is back beat's notice dispatcher gives every
member one inbox notice and one email through a real SMTP server: none lost, none doubled.

To stop Redis in the middle of the release, the test holds a SHARE lock on the audit log's table: the release
inserts the deliveries and marks the wave released, then waits for that lock to write its audit event."""

import psycopg
import pytest
from django.utils import timezone

from advisories.models import Delivery, Notice, ReleaseWave, WaveStatus
from advisories.tasks import RELEASE_HEARTBEAT
from core.levels import AccessLevel
from core.selectors import last_heartbeat
from tests.factories import WaveFactory
from tests.integration.ops.conftest import (
    STARTUP_TIMEOUT_SECONDS,
    database_url_for_subprocesses,
    email_through_sink,
    emails_at,
    wait_until,
)
from tests.integration.ops.test_worker_killed import backend_waiting_for_audit_lock

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PARTNERS = 3
MEMBERS_PER_PARTNER = 5


def test_notices_of_a_release_during_which_redis_dropped_reach_every_member_once(
    processes, private_redis, smtp_sink, make_partner, member_of, advisory
):
    port, sink_log = smtp_sink
    members = [
        member_of(partner).email
        for partner in [make_partner(level=AccessLevel.EARLY) for _ in range(PARTNERS)]
        for _ in range(MEMBERS_PER_PARTNER)
    ]
    processes.environment["CELERY_BROKER_URL"] = private_redis.url
    email_through_sink(processes, port, dispatch_grace_seconds=0)
    processes.worker("worker", "--concurrency", "1")
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
        wait_until(
            lambda: backend_waiting_for_audit_lock(session),
            timeout=30,
            what="the worker to be in the middle of the release",
            processes=processes,
        )
        private_redis.stop()
        audit_lock.rollback()

    wait_until(
        lambda: ReleaseWave.objects.filter(pk=wave.pk, status=WaveStatus.RELEASED).exists(),
        timeout=30,
        what="the release to commit with Redis down",
        processes=processes,
    )
    wait_until(
        lambda: "left to the notice dispatcher" in processes.log("worker"),
        timeout=30,
        what="the worker to log the notice batch it could not queue",
        processes=processes,
    )
    assert Delivery.objects.filter(wave=wave, notified_at__isnull=True).count() == PARTNERS
    assert emails_at(sink_log) == {}

    private_redis.start()
    wait_until(
        lambda: Notice.objects.count() == len(members) and not Notice.objects.filter(emailed_at=None).exists(),
        timeout=90,
        what="the dispatcher to notify and email every member once Redis is back",
        processes=processes,
    )
    wait_until(lambda: set(emails_at(sink_log)) == set(members), timeout=10, what="the last email at the sink")

    assert emails_at(sink_log) == dict.fromkeys(members, 1)
    assert processes.running["worker"].poll() is None
