"""A wave that falls due while Redis (the broker) is down is released once Redis is back: the wave is a database
row, not a queued message, so nothing is lost with the broker and nothing is released twice."""

import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone

from advisories.models import Delivery, ReleaseWave, WaveStatus
from advisories.tasks import RELEASE_HEARTBEAT
from core.levels import AccessLevel
from core.models import AuditEvent
from core.selectors import last_heartbeat
from tests.factories import WaveFactory
from tests.integration.ops.conftest import STARTUP_TIMEOUT_SECONDS, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

OUTAGE_SECONDS = 5
# After the broker returns, the worker reconnects with a back-off of a few seconds.
RECOVERY_TIMEOUT_SECONDS = 60
TICKS_AFTER_RELEASE = 3


def ticked_since(moment) -> bool:
    beat_at = last_heartbeat(RELEASE_HEARTBEAT)
    return beat_at is not None and beat_at > moment


def test_wave_due_while_redis_is_down_is_released_once_when_redis_is_back(
    processes, private_redis, make_partner, advisory
):
    processes.environment["CELERY_BROKER_URL"] = private_redis.url
    processes.worker()
    processes.beat()
    started = timezone.now()
    wait_until(lambda: ticked_since(started), timeout=STARTUP_TIMEOUT_SECONDS, what="a first release tick")
    partners = [make_partner(level=AccessLevel.EARLY) for _ in range(3)]

    private_redis.stop()
    down_since = timezone.now()
    wave = WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=down_since + timedelta(seconds=1))
    time.sleep(OUTAGE_SECONDS)

    # Without a broker no tick reaches a worker: the wave waits, and monitoring says so.
    wave.refresh_from_db()
    assert wave.status == WaveStatus.SCHEDULED
    assert not Delivery.objects.exists()
    with (
        override_settings(CELERY_BROKER_URL=private_redis.url),
        pytest.raises(CommandError, match="the broker does not answer") as status,
    ):
        call_command("release_pipeline_status", "--max-delay", "2")
    assert status.value.returncode == 2

    private_redis.start()
    back_at = timezone.now()
    wait_until(
        lambda: ReleaseWave.objects.filter(pk=wave.pk, status=WaveStatus.RELEASED).exists(),
        timeout=RECOVERY_TIMEOUT_SECONDS,
        what="the wave to be released after Redis came back",
        processes=processes,
    )
    released_at = timezone.now()
    # A few more ticks must change nothing.
    for _ in range(TICKS_AFTER_RELEASE):
        moment = timezone.now()
        wait_until(lambda m=moment: ticked_since(m), timeout=15, what="another tick", processes=processes)

    wave.refresh_from_db()
    assert back_at <= wave.released_at <= released_at
    assert sorted(Delivery.objects.filter(wave=wave).values_list("partner_id", flat=True)) == sorted(
        partner.pk for partner in partners
    )
    assert AuditEvent.objects.filter(action="wave.released").count() == 1
