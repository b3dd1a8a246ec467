"""release_pipeline_status: the last release tick, the due waves still waiting, the queue depth; exit status 2 when
a due wave or the tick is older than the allowed delay, so that monitoring can page someone."""

import json
import os
import socket
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.utils import timezone

from advisories.tasks import RELEASE_HEARTBEAT, release_due_waves
from core.selectors import last_heartbeat
from core.services import record_heartbeat
from tests.factories import AdvisoryFactory, WaveFactory

pytestmark = pytest.mark.django_db

REPO_ROOT = Path(__file__).resolve().parents[2]


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def status(*arguments) -> tuple[int, str]:
    """Run the command; return its exit status and what it printed."""
    out = StringIO()
    try:
        call_command("release_pipeline_status", *arguments, stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue()
    return 0, out.getvalue()


def test_text_report_lists_each_due_wave():
    advisory = AdvisoryFactory(identifier="FWN-2026-0044")
    WaveFactory(advisory=advisory, scheduled_at=timezone.now() - timedelta(seconds=5))
    record_heartbeat(name=RELEASE_HEARTBEAT)

    code, output = status()

    assert code == 0
    assert "due waves not yet released: 1" in output
    assert "FWN-2026-0044 early wave, due" in output


def test_release_tick_records_a_heartbeat_every_node_can_read():
    moment = timezone.now().replace(microsecond=0)
    with time_machine.travel(moment, tick=False):
        release_due_waves.delay()

    assert last_heartbeat(RELEASE_HEARTBEAT) == moment


def test_status_is_ok_when_the_tick_is_recent_and_nothing_is_due():
    release_due_waves.delay()

    code, output = status()

    assert code == 0
    assert "due waves not yet released: 0" in output
    assert "queue depth (celery): n/a" in output
    assert "status: OK" in output


def test_status_is_critical_when_releases_are_overdue_by_more_than_the_allowed_delay():
    advisory = AdvisoryFactory(identifier="FWN-2026-0042")
    WaveFactory(advisory=advisory, scheduled_at=timezone.now() - timedelta(minutes=5))
    record_heartbeat(name=RELEASE_HEARTBEAT)  # ticks arrive, yet the wave stays unreleased (a failing release)

    code, output = status("--max-delay", "60", "--json")

    report = json.loads(output)
    assert code == 2
    assert report["problems"] == ["1 wave(s) due for more than 60 s are not released"]
    assert [(wave["advisory"], wave["level"]) for wave in report["due_waves"]] == [("FWN-2026-0042", "early")]


def test_a_wave_due_within_the_allowed_delay_is_reported_but_not_critical():
    release_due_waves.delay()
    advisory = AdvisoryFactory()
    WaveFactory(advisory=advisory, scheduled_at=timezone.now() + timedelta(hours=1))
    with time_machine.travel(timezone.now() + timedelta(hours=1, seconds=10), tick=False):
        # Beat ticked just now and the wave has waited 10 s: normal.
        record_heartbeat(name=RELEASE_HEARTBEAT)
        code, output = status("--max-delay", "60")

    assert code == 0
    assert "due waves not yet released: 1" in output


def test_status_is_critical_when_no_tick_ever_ran():
    code, output = status()

    assert code == 2
    assert "last release tick: never" in output


def test_status_is_critical_when_the_last_tick_is_older_than_the_allowed_delay():
    with time_machine.travel(timezone.now() - timedelta(minutes=3), tick=False):
        release_due_waves.delay()

    code, _ = status("--max-delay", "120")

    assert code == 2


def test_json_output_names_each_due_wave_and_the_problems():
    advisory = AdvisoryFactory(identifier="FWN-2026-0043")
    WaveFactory(advisory=advisory, scheduled_at=timezone.now() + timedelta(hours=1))
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=False):
        code, output = status("--json")

    report = json.loads(output)
    assert code == 2
    assert report["status"] == "critical"
    assert [wave["advisory"] for wave in report["due_waves"]] == ["FWN-2026-0043"]
    assert report["queue_depths"] == {"releases": None, "celery": None}
    assert len(report["problems"]) == 2


def test_status_is_critical_with_json_when_the_database_refuses_connections(monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(type(connections[DEFAULT_DB_ALIAS]), "cursor", refuse)

    code, output = status("--json")

    report = json.loads(output)
    assert code == 2
    assert report["status"] == "critical"
    assert report["problems"] == ["the database does not answer: connection refused"]
    assert report["last_tick_at"] is None


def test_command_exits_2_with_json_and_no_traceback_when_the_database_is_unreachable():
    result = subprocess.run(
        [sys.executable, "manage.py", "release_pipeline_status", "--json"],
        cwd=REPO_ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{closed_port()}/forewarn",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "critical"
    assert report["problems"][0].startswith("the database does not answer")
    assert "Traceback" not in result.stderr
