"""Every documented way of running the portal restarts a process that dies: each Procfile line runs under
bin/respawn (honcho restarts nothing), and each systemd unit in docs/deploy.md says Restart=always. The restart
itself is tested with a real worker under honcho in tests/integration/ops/test_supervision.py."""

import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("procfile", ["Procfile", "Procfile.dev"])
def test_every_procfile_process_runs_under_respawn(procfile):
    lines = [line for line in (REPO_ROOT / procfile).read_text().splitlines() if line.strip()]

    assert {line.split(":", 1)[0] for line in lines} == {"web", "release-worker", "worker", "beat"}
    for line in lines:
        assert line.split(":", 1)[1].split()[0] == "bin/respawn", line


def test_every_systemd_unit_in_the_deployment_guide_restarts_its_process():
    guide = (REPO_ROOT / "docs" / "deploy.md").read_text()
    units = re.findall(r"```ini\n(.*?)```", guide, flags=re.DOTALL)
    services = [unit for unit in units if "[Service]" in unit]

    assert len(services) >= 4, "a unit for web, the release worker, the worker and beat"
    for unit in services:
        assert "Restart=always" in unit, unit


@pytest.mark.parametrize("procfile", ["Procfile", "Procfile.dev"])
def test_the_release_worker_takes_only_release_ticks_and_the_other_worker_everything_else(procfile):
    commands = dict(line.split(":", 1) for line in (REPO_ROOT / procfile).read_text().splitlines() if line.strip())

    assert "--queues releases " in commands["release-worker"]
    assert "--queues celery " in commands["worker"]
