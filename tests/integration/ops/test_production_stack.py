"""The production processes as an operator runs them, with the repository's Procfile under honcho and the production
settings: machine 1 runs web (gunicorn, config/gunicorn.py), two workers and beat; machine 2 runs another worker and,
by mistake, a second beat. A wave is released once, on time, and the portal behind gunicorn serves it to the
entitled partner only; health, readiness, static files, JSON logs and the pipeline status all work."""

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from advisories.models import Delivery, ReleaseWave, WaveStatus
from advisories.tasks import RELEASE_HEARTBEAT
from core.levels import AccessLevel
from core.models import AuditEvent
from core.selectors import last_heartbeat
from tests.factories import ArtifactFactory, HandlingAcknowledgementFactory, WaveFactory
from tests.integration.ops.conftest import REPO_ROOT, SHARED_REDIS_URL, STARTUP_TIMEOUT_SECONDS, free_port, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

WAVE_LEAD_TIME = timedelta(seconds=4)
RELEASE_TIMEOUT_SECONDS = 30
TICKS_AFTER_RELEASE = 3
POC_CONTENT = b"print('proof of concept for the stack test')\n"
BEAT_SENT_TICK = re.compile(r"beat\.1 +\| .*Sending due task release-due-waves")


def http_get(base_url: str, path: str, session_key: str | None = None) -> tuple[int, bytes]:
    """GET through gunicorn as a browser behind the HTTPS reverse proxy would."""
    headers = {"X-Forwarded-Proto": "https", "Host": "127.0.0.1"}
    if session_key:
        headers["Cookie"] = f"{settings.SESSION_COOKIE_NAME}={session_key}"
    request = urllib.request.Request(base_url + path, headers=headers)  # noqa: S310 -- http://127.0.0.1 only
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        # A node still booting may accept the connection and answer only later: not ready yet.
        return 0, b""


def session_for(user) -> str:
    """A logged-in session stored in the shared database (the web nodes use the same SECRET_KEY)."""
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def ticked_since(moment) -> bool:
    beat_at = last_heartbeat(RELEASE_HEARTBEAT)
    return beat_at is not None and beat_at > moment


@pytest.fixture
def production(processes, tmp_path):
    """The production settings for every process, static files collected as at deployment."""
    port = free_port()
    processes.environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": settings.SECRET_KEY,
            "FOREWARN_AUDIT_CHAIN_KEY": "an-audit-chain-key-for-the-production-stack-test",
            "FOREWARN_AUDIT_CHECKPOINT_SIGNING_KEY": "cHJvZHVjdGlvbi1jaGVja3BvaW50LXNpZ25pbmdrZXk=",
            "FOREWARN_AUDIT_CHECKPOINT_ROOT": str(tmp_path / "audit-checkpoints"),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "CACHE_URL": SHARED_REDIS_URL,
            "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": "2",
            "CELERY_WORKER_CONCURRENCY": "2",
            "PATH": f"{Path(sys.executable).parent}:{processes.environment.get('PATH', '/usr/bin:/bin')}",
        }
    )
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=REPO_ROOT,
        env=processes.environment,
        check=True,
        timeout=120,
    )
    return f"http://127.0.0.1:{port}"


def test_web_workers_and_two_beats_release_a_wave_once_and_the_portal_serves_it(
    processes, production, make_partner, member_of, nda, advisory
):
    base_url = production
    started = timezone.now()
    processes.start(
        "machine-1", "honcho", "--procfile", "Procfile", "start", "--no-colour", "--concurrency", "worker=2"
    )
    processes.start(
        "machine-2", "honcho", "--procfile", "Procfile", "start", "--no-colour", "release-worker", "worker", "beat"
    )
    wait_until(
        lambda: http_get(base_url, "/healthz")[0] == 200,
        timeout=STARTUP_TIMEOUT_SECONDS,
        what="gunicorn to answer",
        processes=processes,
    )
    wait_until(
        lambda: ticked_since(started), timeout=STARTUP_TIMEOUT_SECONDS, what="a release tick", processes=processes
    )

    status, body = http_get(base_url, "/readyz")
    assert (status, json.loads(body)["checks"]) == (
        200,
        {"database": "ok", "clock": "ok", "broker": "ok", "cache": "ok", "storage": "ok"},
    )

    early = make_partner(level=AccessLevel.EARLY)
    standard = make_partner(level=AccessLevel.STANDARD, contracts=[nda])
    early_analyst, standard_analyst = member_of(early), member_of(standard)
    poc = ArtifactFactory(advisory=advisory, level=AccessLevel.EARLY, name="PoC", content=POC_CONTENT, filename="p.py")
    wave = WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=timezone.now() + WAVE_LEAD_TIME)
    poc_url = reverse("advisories:artifact", args=[advisory.identifier, poc.pk])
    early_session = session_for(early_analyst)
    assert http_get(base_url, poc_url, early_session)[0] == 404  # not before its time

    wait_until(
        lambda: ReleaseWave.objects.filter(pk=wave.pk, status=WaveStatus.RELEASED).exists(),
        timeout=RELEASE_TIMEOUT_SECONDS,
        what="the wave to be released",
        processes=processes,
    )
    for _ in range(TICKS_AFTER_RELEASE):
        moment = timezone.now()
        wait_until(lambda m=moment: ticked_since(m), timeout=15, what="another tick", processes=processes)

    # Released once, by one of the three workers, although two beats were ticking.
    wave.refresh_from_db()
    assert wave.scheduled_at <= wave.released_at
    assert list(Delivery.objects.filter(advisory=advisory).values_list("partner_id", "level")) == [
        (early.pk, AccessLevel.EARLY)
    ]
    assert AuditEvent.objects.filter(action="wave.released").count() == 1
    assert BEAT_SENT_TICK.search(processes.log("machine-1"))
    assert BEAT_SENT_TICK.search(processes.log("machine-2"))

    # The portal behind gunicorn: the entitled partner reads and downloads; the standard partner gets 404.
    status, page = http_get(base_url, reverse("advisories:list"), early_session)
    assert status == 200
    assert advisory.identifier.encode() in page
    # The analyst has acknowledged the advisory's handling terms, as the portal asks once before the first download.
    HandlingAcknowledgementFactory(user=early_analyst, advisory=advisory)
    status, download = http_get(base_url, poc_url, early_session)
    assert status == 200
    assert POC_CONTENT in download
    assert http_get(base_url, poc_url, session_for(standard_analyst))[0] == 404
    assert http_get(base_url, "/static/css/forewarn.css")[0] == 200

    # Logs are JSON lines (after honcho's "time name | " prefix).
    access_lines = [
        line.split(" | ", 1)[1]
        for line in processes.log("machine-1").splitlines()
        if " | " in line and '"gunicorn.access"' in line
    ]
    assert access_lines
    assert all(json.loads(line)["logger"] == "gunicorn.access" for line in access_lines)

    pipeline = subprocess.run(
        [sys.executable, "manage.py", "release_pipeline_status", "--json"],
        cwd=REPO_ROOT,
        env=processes.environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert pipeline.returncode == 0, pipeline.stdout + pipeline.stderr
    report = json.loads(pipeline.stdout.strip().splitlines()[-1])
    assert report["status"] == "ok"
    assert report["due_waves"] == []
    assert all(isinstance(depth, int) for depth in report["queue_depths"].values())
