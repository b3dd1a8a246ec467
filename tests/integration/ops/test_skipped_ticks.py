"""Release ticks are on their own queue, and a tick that expires before the release worker takes it is never
silent: the worker logs it and records it, and release_pipeline_status fails while one was skipped lately."""

import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from advisories.tasks import RELEASE_HEARTBEAT, release_due_waves
from core.models import SkippedTick
from core.selectors import last_heartbeat
from tests.integration.ops.conftest import STARTUP_TIMEOUT_SECONDS, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Beat ticks every second and each tick expires after two seconds (FOREWARN_TICK_EXPIRY_SECONDS=1: two intervals).
EXPIRY_SECONDS = 2
TICKS_QUEUED = 4


def test_ticks_that_expire_while_the_release_worker_is_away_are_logged_and_counted(processes, private_redis):
    # A Redis of its own: a release worker still stopping after an earlier test could otherwise take the ticks.
    processes.environment["CELERY_BROKER_URL"] = private_redis.url
    processes.environment["FOREWARN_TICK_EXPIRY_SECONDS"] = "1"  # ticks expire after two intervals: 2 s
    processes.worker("notices", "--queues", "celery", "--pool", "solo")
    processes.beat()
    # Ticks queue up with no release worker; wait until several were sent and the first ones are past their expiry.
    wait_until(
        lambda: processes.log("beat").count("Sending due task release-due-waves") >= TICKS_QUEUED,
        timeout=STARTUP_TIMEOUT_SECONDS,
        what=f"beat to send {TICKS_QUEUED} release ticks",
        processes=processes,
    )
    time.sleep(EXPIRY_SECONDS + 1)
    # The default queue's worker never takes a release tick.
    assert last_heartbeat(RELEASE_HEARTBEAT) is None
    assert "Task advisories.tasks.release_due_waves[" not in processes.log("notices")

    started = timezone.now()
    processes.worker("release-worker", "--queues", "releases", "--pool", "solo")
    wait_until(
        lambda: (last_heartbeat(RELEASE_HEARTBEAT) or started) > started,
        timeout=STARTUP_TIMEOUT_SECONDS,
        what="the release worker to run a tick",
        processes=processes,
    )
    wait_until(
        lambda: SkippedTick.objects.filter(name=release_due_waves.name).exists(),
        timeout=10,
        what="the expired ticks to be recorded",
        processes=processes,
    )

    assert "expired before a worker took it" in processes.log("release-worker")
    with pytest.raises(CommandError, match=r"release tick\(s\) expired unrun"):
        call_command("release_pipeline_status", "--max-delay", "60")
