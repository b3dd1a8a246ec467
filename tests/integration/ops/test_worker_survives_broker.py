"""A worker run as in the Procfile (prefork pool, gossip, mingle and heartbeat on) keeps running when Redis, its
broker, stops while an acks-late task runs, and takes the next task once Redis is back (config/celery_broker.py).

To hold a release tick in the middle of its run, the test locks the heartbeat table that the tick writes first."""

import time

import psycopg
import pytest
from django.utils import timezone

from advisories.tasks import RELEASE_HEARTBEAT
from core.selectors import last_heartbeat
from tests.integration.ops.conftest import STARTUP_TIMEOUT_SECONDS, database_url_for_subprocesses, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# The worker retries the broker after 2, 4, 6... seconds.
RECONNECT_TIMEOUT_SECONDS = 20


def backend_waiting_for_heartbeat_table(session) -> int | None:
    row = session.execute(
        "SELECT pid FROM pg_locks WHERE locktype = 'relation' AND NOT granted AND relation = 'core_heartbeat'::regclass"
    ).fetchone()
    return row[0] if row else None


def test_worker_survives_redis_stopping_during_a_task_and_runs_the_next_task(processes, private_redis):
    processes.environment["CELERY_BROKER_URL"] = private_redis.url
    # The Procfile's worker line; one pool process, so that the held tick is the only one running.
    processes.start("worker", "celery", "--app", "config", "worker", "--loglevel", "INFO", "--concurrency", "1")
    processes.beat()
    started = timezone.now()
    wait_until(
        lambda: (last_heartbeat(RELEASE_HEARTBEAT) or started) > started,
        timeout=STARTUP_TIMEOUT_SECONDS,
        what="a first release tick",
        processes=processes,
    )

    with psycopg.connect(database_url_for_subprocesses()) as heartbeat_lock:
        heartbeat_lock.execute("LOCK TABLE core_heartbeat IN ACCESS EXCLUSIVE MODE")
        with psycopg.connect(database_url_for_subprocesses(), autocommit=True) as session:
            wait_until(
                lambda: backend_waiting_for_heartbeat_table(session),
                timeout=15,
                what="a release tick to be running",
                processes=processes,
            )
        private_redis.stop()
        time.sleep(1)
        heartbeat_lock.rollback()  # the held tick finishes while the broker is down

    time.sleep(1)
    processes.fail_if_any_exited("Redis to come back")
    private_redis.start()
    back_at = timezone.now()
    wait_until(
        lambda: (last_heartbeat(RELEASE_HEARTBEAT) or back_at) > back_at,
        timeout=RECONNECT_TIMEOUT_SECONDS,
        what="a release tick after Redis came back",
        processes=processes,
    )

    log = processes.log("worker")
    assert "Connection to broker lost" in log
    assert "Unrecoverable error" not in log
    assert processes.running["worker"].poll() is None
