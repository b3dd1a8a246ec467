"""Helpers shared by the integration tests that run the portal's processes as subprocesses."""

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path
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


def descendants(pid: int) -> set[int]:
    """Every process below `pid` (children, grandchildren...), read from /proc: honcho starts each Procfile line in a
    session of its own, out of reach of a signal to honcho's process group."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(parent, []).append(int(entry.name))
    found, pending = set(), [pid]
    while pending:
        for child in parents.get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent to reap it counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def stop_process_groups(processes: Iterable[subprocess.Popen], timeout: float) -> None:
    """SIGTERM each process group, then SIGKILL whatever is still running after `timeout` seconds, the processes'
    descendants in other sessions included, and wait until they are gone: nothing a test started may outlive it and
    take the next test's tasks."""
    processes = list(processes)
    below = set().union(*(descendants(process.pid) for process in processes)) if processes else set()
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
    while (left := [pid for pid in below if _alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    settle = time.monotonic() + 5
    while [pid for pid in left if _alive(pid)] and time.monotonic() < settle:
        time.sleep(0.1)
