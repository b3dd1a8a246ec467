"""Two beats (or two workers) running release_due_waves at the same instant on PostgreSQL cannot release a wave
twice: each wave is locked by one run (SELECT ... FOR UPDATE SKIP LOCKED) and released in one transaction."""

import threading

import pytest
from django.db import connection

from advisories import services
from advisories.models import Delivery, ReleaseWave, WaveStatus
from core.levels import AccessLevel
from core.models import AuditEvent
from tests.factories import AdvisoryFactory, DocumentFactory, WaveFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PARTNERS = 60
ADVISORIES = 4
CONCURRENT_RUNS = 2


def run_concurrently(function, count: int) -> list:
    """Call `function` from `count` threads released at the same instant, each with its own database connection.
    Returns each thread's result; re-raises the first exception."""
    start = threading.Barrier(count)
    results: list = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            start.wait()
            results[index] = function()
        except BaseException as error:  # noqa: BLE001 -- reported to the test below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    return results


def test_concurrent_release_runs_deliver_once_per_partner_and_release_each_wave_once(make_partner):
    partners = [make_partner(level=AccessLevel.EARLY) for _ in range(PARTNERS)]
    waves = []
    for _ in range(ADVISORIES):
        advisory = AdvisoryFactory()
        DocumentFactory(advisory=advisory, level=AccessLevel.GENERIC)
        waves.append(WaveFactory(advisory=advisory, level=AccessLevel.EARLY))

    released_per_run = run_concurrently(services.release_due_waves, CONCURRENT_RUNS)

    released = [wave_id for run in released_per_run for wave_id in run]
    assert sorted(released) == sorted(wave.pk for wave in waves)  # every wave by exactly one run
    assert set(ReleaseWave.objects.values_list("status", flat=True)) == {WaveStatus.RELEASED}
    for wave in waves:
        delivered_to = list(Delivery.objects.filter(wave=wave).values_list("partner_id", flat=True))
        assert sorted(delivered_to) == sorted(partner.pk for partner in partners)
        assert AuditEvent.objects.filter(action="wave.released", target_id=str(wave.pk)).count() == 1
