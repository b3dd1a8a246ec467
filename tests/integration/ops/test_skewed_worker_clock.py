"""A real worker whose clock is 60 s fast or 60 s slow (its process clock shifted, as on a machine whose NTP
stopped) under real beat and PostgreSQL: the database's clock decides, so it releases nothing early and nothing
late beyond a tick, it still runs every tick (they do not expire on its clock), and its skew is reported."""

import json
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from advisories.models import ReleaseWave, WaveStatus
from advisories.tasks import RELEASE_HEARTBEAT
from core.clock import embargo_now
from core.levels import AccessLevel
from core.selectors import heartbeat_clock_skew
from tests.factories import WaveFactory
from tests.integration.ops.conftest import STARTUP_TIMEOUT_SECONDS, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SKEW_SECONDS = 60
WAVE_IN_SECONDS = 12
# A tick every second; picking it up and releasing takes a little more on a loaded machine.
LATE_AT_MOST_SECONDS = 5


@pytest.fixture(autouse=True)
def database_clock(settings):
    settings.FOREWARN_EMBARGO_CLOCK = "database"


def start_skewed_worker(processes, offset: int):
    processes.start(
        "worker",
        "tests.integration.ops.skewed_clock",
        str(offset),
        "celery",
        "--app", "config", "worker", "--loglevel", "INFO", "--pool", "solo",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    )  # fmt: skip
    processes.beat()
    wait_until(
        lambda: heartbeat_clock_skew(RELEASE_HEARTBEAT) is not None,
        timeout=STARTUP_TIMEOUT_SECONDS,
        what="a first release tick of the skewed worker",
        processes=processes,
    )


def watch_release(wave, processes) -> float:
    """Seconds between the wave's scheduled time and the moment it is seen released (by the database's clock)."""
    deadline = time.monotonic() + WAVE_IN_SECONDS + 30
    while time.monotonic() < deadline:
        if ReleaseWave.objects.filter(pk=wave.pk, status=WaveStatus.RELEASED).exists():
            return (embargo_now() - wave.scheduled_at).total_seconds()
        processes.fail_if_any_exited("the wave's release")
        time.sleep(0.05)
    pytest.fail("the wave was not released")


@pytest.mark.parametrize("offset", [SKEW_SECONDS, -SKEW_SECONDS], ids=["60 s fast", "60 s slow"])
def test_a_worker_with_a_skewed_clock_releases_on_the_database_clock(processes, make_partner, advisory, offset):
    make_partner(level=AccessLevel.EARLY)
    start_skewed_worker(processes, offset)
    wave = WaveFactory(
        advisory=advisory, level=AccessLevel.EARLY, scheduled_at=embargo_now() + timedelta(seconds=WAVE_IN_SECONDS)
    )

    seen_after = watch_release(wave, processes)

    wave.refresh_from_db()
    assert 0 <= seen_after <= LATE_AT_MOST_SECONDS  # never early, late by about a tick at most
    assert wave.scheduled_at <= wave.released_at  # the instant recorded is the database's
    assert abs(heartbeat_clock_skew(RELEASE_HEARTBEAT) - offset) < 2
    out = StringIO()
    with pytest.raises(CommandError, match="release worker's clock is"):
        call_command("release_pipeline_status", "--json", stdout=out)
    assert abs(json.loads(out.getvalue())["clock_skew_seconds"]["release worker"] - offset) < 2
