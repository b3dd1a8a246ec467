"""Beat's release tick comes every RELEASE_INTERVAL_SECONDS; a wave falling due before the next one gets a tick of
its own at its instant, and that tick never releases early (the database's clock decides)."""

from datetime import timedelta
from unittest import mock

import pytest

from advisories import tasks
from advisories.models import WaveStatus
from core.clock import embargo_now
from core.levels import AccessLevel
from tests.factories import WaveFactory


@pytest.mark.django_db
def test_a_wave_due_before_the_next_tick_gets_a_tick_at_its_instant(advisory, settings):
    settings.RELEASE_INTERVAL_SECONDS = 5
    soon = WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=embargo_now() + timedelta(seconds=2))
    WaveFactory(advisory=advisory, level=AccessLevel.GENERIC, scheduled_at=embargo_now() + timedelta(seconds=60))

    with mock.patch.object(tasks.release_due_waves, "apply_async") as queued:
        tasks.release_due_waves()

    queued.assert_called_once_with(kwargs={"at_due_instant": True}, eta=soon.scheduled_at)


@pytest.mark.django_db
def test_the_tick_at_a_due_instant_releases_nothing_early_and_queues_no_other(advisory, settings):
    settings.RELEASE_INTERVAL_SECONDS = 5
    wave = WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=embargo_now() + timedelta(seconds=2))

    with mock.patch.object(tasks.release_due_waves, "apply_async") as queued:
        assert tasks.release_due_waves(at_due_instant=True) == 0

    queued.assert_not_called()
    wave.refresh_from_db()
    assert wave.status == WaveStatus.SCHEDULED


@pytest.mark.django_db
def test_a_broker_down_leaves_the_wave_to_beats_next_tick(advisory, settings, caplog):
    settings.RELEASE_INTERVAL_SECONDS = 5
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=embargo_now() + timedelta(seconds=2))

    with mock.patch.object(tasks.release_due_waves, "apply_async", side_effect=ConnectionError("refused")):
        assert tasks.release_due_waves() == 0

    assert "waits for beat's next tick" in caplog.text
