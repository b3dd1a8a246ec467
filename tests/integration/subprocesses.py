"""Helpers shared by the integration tests that run the portal's processes as subprocesses."""

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterable
from urllib.parse import quote

import pytest
from django.db import connection


def unavailable(reason: str) -> None:
    """Skip locally when a service is missing; under CI=true fail, so that CI cannot pass by skipping."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: integration tests must run, not skip)", pytrace=False)
    pytest.skip(reason)


def database_url_for_subprocesses() -> str:
    """A DATABASE_URL naming the test database this session uses (test_<name>), for the subprocesses."""
    database = connection.settings_dict
    credentials = quote(database["USER"] or "", safe="")
    if database["PASSWORD"]:
        credentials += ":" + quote(database["PASSWORD"], safe="")
    host = database["HOST"] or "127.0.0.1"
    return f"postgres://{credentials}@{host}:{database['PORT'] or 5432}/{database['NAME']}"


def stop_process_groups(processes: Iterable[subprocess.Popen], timeout: float) -> None:
    """SIGTERM each process group, then SIGKILL whatever is still running after `timeout` seconds."""
    processes = list(processes)
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
