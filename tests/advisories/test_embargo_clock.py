"""The database's clock decides embargoes: a worker whose own clock is 60 s fast releases nothing early, one 60 s
slow releases nothing late, and the instant a release records is the database's. A drifting node is reported by
the release heartbeat, `/readyz` and `release_pipeline_status`."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse

from advisories import services, tasks
from advisories.models import Delivery, ReleaseWave, WaveStatus
from core.clock import embargo_now
from core.levels import AccessLevel
from core.models import Heartbeat
from tests.factories import WaveFactory
from tests.integration.subprocesses import unavailable

SKEW = timedelta(seconds=60)


@pytest.fixture(autouse=True)
def database_clock(db, settings):
    if connection.vendor != "postgresql":
        unavailable("the database clock is PostgreSQL's: set DATABASE_URL to a PostgreSQL database")
    settings.FOREWARN_EMBARGO_CLOCK = "database"


@pytest.fixture
def partner(make_partner):
    return make_partner(level=AccessLevel.EARLY)


def test_a_worker_clock_60_s_fast_releases_nothing_early(advisory, partner):
    wave = WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=embargo_now() + timedelta(seconds=20))

    with time_machine.travel(embargo_now() + SKEW, tick=True):
        assert services.release_due_waves() == []

    wave.refresh_from_db()
    assert wave.status == WaveStatus.SCHEDULED
    assert not Delivery.objects.exists()


def test_a_worker_clock_60_s_slow_releases_on_time_and_records_the_database_instant(advisory, partner):
    wave = WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=embargo_now() - timedelta(seconds=1))

    with time_machine.travel(embargo_now() - SKEW, tick=True):
        assert services.release_due_waves() == [wave.pk]

    wave.refresh_from_db()
    database_now = embargo_now()
    assert wave.scheduled_at <= wave.released_at <= database_now
    assert database_now - wave.released_at < timedelta(seconds=10)
    assert Delivery.objects.get().delivered_at == wave.released_at


def test_a_later_cohort_waits_for_the_database_clock_too(advisory, partner, make_partner):
    later = make_partner(level=AccessLevel.EARLY)
    wave = WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=embargo_now() - timedelta(seconds=1))
    cohort = wave.cohorts.create(name="Later", scheduled_at=embargo_now() + timedelta(seconds=20))
    cohort.partners.set([later])

    with time_machine.travel(embargo_now() + SKEW, tick=True):
        services.release_due_waves()

    assert set(Delivery.objects.values_list("partner_id", flat=True)) == {partner.pk}
    assert ReleaseWave.objects.get(pk=wave.pk).status == WaveStatus.RELEASED


def test_the_release_heartbeat_records_a_drifting_worker_and_monitoring_reports_it(advisory):
    with time_machine.travel(embargo_now() + SKEW, tick=True):
        tasks.release_due_waves()

    skew = Heartbeat.objects.get(name=tasks.RELEASE_HEARTBEAT).clock_skew_seconds
    assert 55 < skew < 65
    with pytest.raises(CommandError, match=r"release worker's clock is \+\d+\.\d+ s off the database's"):
        call_command("release_pipeline_status")


def test_readyz_fails_on_a_node_whose_clock_is_off(client):
    with time_machine.travel(embargo_now() - SKEW, tick=True):
        response = client.get(reverse("readyz"))

    assert response.status_code == 503
    assert response.json()["checks"]["clock"] == "failed"
    assert client.get(reverse("readyz")).json()["checks"]["clock"] == "ok"
