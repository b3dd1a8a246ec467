"""Integration tests run against real PostgreSQL and Redis, with a real Celery worker and beat as subprocesses.

Without those services they skip locally; under CI=true they fail, so that a CI machine missing a service cannot
pass by skipping the tests that need it.
"""

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from django.db import connection

from tests.integration.subprocesses import database_url_for_subprocesses, stop_process_groups, unavailable

REPO_ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("FOREWARN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
RELEASE_INTERVAL_SECONDS = 1
STARTUP_TIMEOUT_SECONDS = 30
SHUTDOWN_TIMEOUT_SECONDS = 10
POLL_SECONDS = 0.2
RELEASE_TICK_DONE = re.compile(r"Task advisories\.tasks\.release_due_waves\[[^\]]+\] succeeded")


@pytest.fixture(autouse=True)
def integration_services():
    """Every integration test needs PostgreSQL (the test database) and Redis (the broker)."""
    if connection.vendor != "postgresql":
        unavailable(
            f"needs PostgreSQL, the test database is {connection.vendor}: "
            "set DATABASE_URL=postgres://postgres@127.0.0.1:5432/forewarn"
        )
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as error:
        unavailable(f"needs Redis at {REDIS_URL} (FOREWARN_TEST_REDIS_URL): {error}")


class CeleryRun:
    """A Celery worker and beat started as subprocesses against the test database and the Redis test database,
    beat ticking `release_due_waves` every second. Their output goes to log files, shown when a test fails."""

    def __init__(self, var_dir: Path):
        self.var_dir = var_dir
        self.processes: dict[str, subprocess.Popen] = {}
        self.environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DJANGO_DEBUG": "false",
            "DATABASE_URL": database_url_for_subprocesses(),
            "CELERY_BROKER_URL": REDIS_URL,
            "FOREWARN_RELEASE_INTERVAL_SECONDS": str(RELEASE_INTERVAL_SECONDS),
            # The notice outbox's dispatcher at test speed: a notice batch whose message another consumer of the
            # shared test Redis took is still sent within seconds, as in production within a minute.
            "FOREWARN_NOTICE_DISPATCH_SECONDS": "1",
            "FOREWARN_NOTICE_DISPATCH_GRACE_SECONDS": "2",
            "FOREWARN_VAR_DIR": str(var_dir),
            # The filebased backend cannot be used: settings do not read EMAIL_FILE_PATH. The console backend
            # writes each email to the worker's log, where the test reads it.
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
            "PYTHONUNBUFFERED": "1",
        }

    def start(self) -> "CeleryRun":
        redis.Redis.from_url(REDIS_URL).flushdb()  # no task left over from an earlier run
        # Solo pool: one process, so that its log holds every task and every email, in order.
        self._start("worker", "--pool", "solo", "--without-gossip", "--without-mingle", "--without-heartbeat")
        self._start("beat")
        return self

    def _start(self, name: str, *arguments: str) -> None:
        log_path = self.var_dir / f"{name}.log"
        with log_path.open("wb") as log:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "celery", "--app", "config", name, "--loglevel", "INFO", *arguments],
                cwd=REPO_ROOT,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so that teardown stops any child it forks
            )

    def log(self, name: str) -> str:
        path = self.var_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def release_ticks_done(self) -> int:
        """How many `release_due_waves` runs the worker has completed."""
        return len(RELEASE_TICK_DONE.findall(self.log("worker")))

    def wait_for(self, condition: Callable[[], object], *, timeout: float, what: str):
        """Poll `condition` until it returns something truthy, and return that. Fails at once if a subprocess
        exits, and after `timeout` seconds otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            result = condition()
            if result:
                return result
            for name, process in self.processes.items():
                if process.poll() is not None:
                    pytest.fail(f"Celery {name} exited with status {process.returncode} while waiting for {what}")
            if time.monotonic() > deadline:
                pytest.fail(f"Timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(POLL_SECONDS)

    def wait_until_releasing(self) -> None:
        """Wait until beat has sent a release tick and the worker has run it: both are up and connected."""
        self.wait_for(
            self.release_ticks_done, timeout=STARTUP_TIMEOUT_SECONDS, what="the worker to run a release_due_waves tick"
        )

    def stop(self) -> None:
        stop_process_groups(self.processes.values(), timeout=SHUTDOWN_TIMEOUT_SECONDS)


CELERY_RUN = pytest.StashKey[CeleryRun]()


@pytest.fixture
def start_celery(request, transactional_db, tmp_path):
    """Start a Celery worker and beat (call it when the scenario needs them running); stopped after the test,
    before the test database is flushed."""
    run = CeleryRun(tmp_path)
    request.node.stash[CELERY_RUN] = run
    try:
        yield run.start
    finally:
        run.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, add the worker's and beat's output to the report."""
    run = item.stash.get(CELERY_RUN, None)
    if run is not None and call.excinfo is not None and not call.excinfo.errisinstance(pytest.skip.Exception):
        for name in run.processes:
            item.add_report_section(call.when, f"celery {name}", run.log(name))
    return (yield)
