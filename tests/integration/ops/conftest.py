"""Fixtures for the operations tests: real PostgreSQL, real Redis (the shared server, database 12, or a private
server on its own port that a test stops and starts), and the production processes (gunicorn, Celery workers,
beat) as subprocesses. Skipped locally without PostgreSQL or Redis; under CI=true a missing service fails."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from django.db import connection

from tests.integration.subprocesses import database_url_for_subprocesses, stop_process_groups, unavailable

REPO_ROOT = Path(__file__).resolve().parents[3]
SHARED_REDIS_URL = os.environ.get("FOREWARN_OPS_TEST_REDIS_URL", "redis://127.0.0.1:6379/12")
PRIVATE_REDIS_PORT = int(os.environ.get("FOREWARN_OPS_TEST_PRIVATE_REDIS_PORT", "6312"))
RELEASE_INTERVAL_SECONDS = 1
STARTUP_TIMEOUT_SECONDS = 40
SHUTDOWN_TIMEOUT_SECONDS = 15
POLL_SECONDS = 0.2


@pytest.fixture(autouse=True)
def ops_services():
    if connection.vendor != "postgresql":
        unavailable(f"needs PostgreSQL, the test database is {connection.vendor}: set DATABASE_URL")
    try:
        redis.Redis.from_url(SHARED_REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as error:
        unavailable(f"needs Redis at {SHARED_REDIS_URL}: {error}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], object], *, timeout: float, what: str, processes=None):
    """Poll `condition` until it returns something truthy and return it; fail after `timeout` seconds, or at once
    if one of `processes` (a Processes) exits."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if processes is not None:
            processes.fail_if_any_exited(what)
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(POLL_SECONDS)


class PrivateRedis:
    """A Redis server of our own on its own port, so that a test can take the broker down without touching the
    shared server on 6379."""

    def __init__(self, port: int, directory: Path):
        self.port = port
        self.directory = directory
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self) -> None:
        subprocess.run(
            [
                "redis-server",
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--daemonize", "yes",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.directory),
                "--pidfile", str(self.directory / f"redis-{self.port}.pid"),
                "--logfile", str(self.directory / f"redis-{self.port}.log"),
            ],
            check=True,
        )  # fmt: skip
        wait_until(self.answers, timeout=10, what=f"Redis on port {self.port} to start")

    def stop(self) -> None:
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"], capture_output=True, check=False)
        wait_until(lambda: not self.answers(), timeout=10, what=f"Redis on port {self.port} to stop")

    def answers(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
        except redis.RedisError:
            return False


@pytest.fixture
def private_redis(tmp_path):
    if shutil.which("redis-server") is None:
        unavailable("needs redis-server to start a private Redis")
    server = PrivateRedis(PRIVATE_REDIS_PORT, tmp_path)
    if server.answers():
        pytest.fail(f"port {PRIVATE_REDIS_PORT} already has a Redis: set FOREWARN_OPS_TEST_PRIVATE_REDIS_PORT")
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Processes:
    """Named subprocesses (gunicorn, Celery worker, beat), each in its own process group with its log in a file."""

    def __init__(self, directory: Path, environment: dict[str, str]):
        self.directory = directory
        self.environment = environment
        self.running: dict[str, subprocess.Popen] = {}
        self.expected_exit: set[str] = set()

    def start(self, name: str, *command: str, **environment: str) -> subprocess.Popen:
        log = (self.directory / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", *command],
            cwd=REPO_ROOT,
            env={**self.environment, **environment},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.running[name] = process
        self.expected_exit.discard(name)
        return process

    def worker(self, name: str = "worker", *arguments: str) -> subprocess.Popen:
        return self.start(
            name, "celery", "--app", "config", "worker", "--loglevel", "INFO", "--hostname", f"{name}@%h",
            "--without-gossip", "--without-mingle", *arguments,
        )  # fmt: skip

    def beat(self, name: str = "beat") -> subprocess.Popen:
        return self.start(name, "celery", "--app", "config", "beat", "--loglevel", "INFO")

    def log(self, name: str) -> str:
        path = self.directory / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def kill(self, name: str) -> None:
        """SIGKILL the process and every child it forked: no clean-up, no acknowledgement, as in a crash."""
        process = self.running[name]
        self.expected_exit.add(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def fail_if_any_exited(self, what: str) -> None:
        for name, process in self.running.items():
            if name not in self.expected_exit and process.poll() is not None:
                pytest.fail(f"{name} exited with status {process.returncode} while waiting for {what}")

    def stop_all(self) -> None:
        stop_process_groups(self.running.values(), timeout=SHUTDOWN_TIMEOUT_SECONDS)


PROCESSES = pytest.StashKey[Processes]()


@pytest.fixture
def processes(request, transactional_db, tmp_path, settings):
    """Start subprocesses with `processes.worker()`, `.beat()`, `.start(...)`: Django's local settings against the
    test database and the shared test Redis (change `processes.environment` first to use other settings). All are
    stopped after the test, before the test database is flushed."""
    redis.Redis.from_url(SHARED_REDIS_URL).flushdb()
    running = Processes(
        tmp_path,
        {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DJANGO_DEBUG": "false",
            "DATABASE_URL": database_url_for_subprocesses(),
            "CELERY_BROKER_URL": SHARED_REDIS_URL,
            "FOREWARN_RELEASE_INTERVAL_SECONDS": str(RELEASE_INTERVAL_SECONDS),
            "FOREWARN_VAR_DIR": str(tmp_path / "var"),
            # The same private files as this test process, so that files made by factories can be served.
            "FOREWARN_PRIVATE_MEDIA_ROOT": settings.PRIVATE_MEDIA_ROOT,
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
            "PYTHONUNBUFFERED": "1",
        },
    )
    request.node.stash[PROCESSES] = running
    try:
        yield running
    finally:
        running.stop_all()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, add every subprocess's output to the report."""
    running = item.stash.get(PROCESSES, None)
    if running is not None and call.excinfo is not None and not call.excinfo.errisinstance(pytest.skip.Exception):
        for name in running.running:
            item.add_report_section(call.when, name, running.log(name)[-20000:])
    return (yield)


# The fault tests' SMTP server (bench/smtp_sink.py): slow enough that a fault lands between two emails.
SMTP_SECONDS_PER_MESSAGE = 0.1


def emails_at(sink_log: Path) -> Counter:
    """Emails the sink accepted, per recipient address."""
    lines = sink_log.read_text().splitlines() if sink_log.exists() else []
    return Counter(address for line in lines for address in line.split(" ", 2)[2].split(","))


@pytest.fixture
def smtp_sink(tmp_path):
    """A real SMTP server on a free port: (port, the file it logs each accepted message to)."""
    port, log = free_port(), tmp_path / "smtp-sink.txt"
    sink = subprocess.Popen(
        [sys.executable, "bench/smtp_sink.py", "--port", str(port), "--log", str(log)]
        + ["--delay", str(SMTP_SECONDS_PER_MESSAGE)],
        cwd=REPO_ROOT,
    )
    try:
        yield port, log
    finally:
        sink.terminate()
        sink.wait(timeout=10)


def email_through_sink(processes, port: int, *, dispatch_grace_seconds: int) -> None:
    """Make the subprocesses send email over SMTP to the sink on `port`, with beat's notice dispatcher every second."""
    processes.environment.update(
        {
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(port),
            "FOREWARN_NOTICE_DISPATCH_SECONDS": "1",
            "FOREWARN_NOTICE_DISPATCH_GRACE_SECONDS": str(dispatch_grace_seconds),
        }
    )
