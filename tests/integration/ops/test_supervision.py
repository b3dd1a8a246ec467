"""A dead worker is started again when the portal runs from the Procfile under honcho (which itself restarts
nothing: it stops every process when one exits): each Procfile line runs under bin/respawn."""

import os
import signal
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from advisories.tasks import RELEASE_HEARTBEAT
from core.selectors import last_heartbeat
from tests.integration.ops.conftest import STARTUP_TIMEOUT_SECONDS, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if parent == pid:
                found.append(int(entry.name))
    return found


def command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def worker_main_process(root: int) -> int | None:
    """The Celery worker's main process under `root`: the worker started by bin/respawn."""
    pending = [(root, "")]
    while pending:
        pid, parent_line = pending.pop()
        line = command_line(pid)
        if "bin/respawn" in parent_line and "bin/respawn" not in line and " worker " in line:
            return pid
        pending.extend((kid, line) for kid in children(pid))
    return None


def test_a_killed_worker_is_started_again_under_honcho_and_runs_the_next_tick(processes):
    processes.environment.update(
        {
            "PATH": f"{Path(sys.executable).parent}:{processes.environment.get('PATH', '/usr/bin:/bin')}",
            "CELERY_WORKER_CONCURRENCY": "1",
            "FOREWARN_RESPAWN_DELAY_SECONDS": "1",
        }
    )
    honcho = processes.start(
        "honcho", "honcho", "--procfile", "Procfile", "start", "--no-colour", "release-worker", "beat"
    )
    started = timezone.now()
    wait_until(
        lambda: (last_heartbeat(RELEASE_HEARTBEAT) or started) > started,
        timeout=STARTUP_TIMEOUT_SECONDS,
        what="a first release tick",
        processes=processes,
    )
    first_worker = worker_main_process(honcho.pid)
    assert first_worker is not None

    os.kill(first_worker, signal.SIGKILL)  # as the OOM killer would
    killed_at = timezone.now()
    second_worker = wait_until(
        lambda: (pid := worker_main_process(honcho.pid)) != first_worker and pid,
        timeout=10,
        what="bin/respawn to start the worker again",
        processes=processes,
    )
    wait_until(
        lambda: (last_heartbeat(RELEASE_HEARTBEAT) or killed_at) > killed_at,
        timeout=STARTUP_TIMEOUT_SECONDS,
        what="the new worker to run a release tick",
        processes=processes,
    )

    assert honcho.poll() is None
    assert second_worker != first_worker
    assert "exited with status -9" in processes.log("honcho") or "exited with status 137" in processes.log("honcho")
