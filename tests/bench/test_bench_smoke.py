"""The benchmarks cannot rot: each runs at small scale (its --smoke mode) and must measure what it claims; a
script that fails, cannot measure (exit 2) or prints no summary line fails here."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.bench


def _run(script: str, *arguments: str, timeout: int) -> str:
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / script), *arguments],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_fingerprint_size_bench_measures_linear_growth_at_small_scale():
    output = _run("fingerprint_size.py", "--smoke", timeout=300)

    summary = output.strip().splitlines()[-1]
    assert re.fullmatch(
        r"bench fingerprint-size: seconds_160KiB=\S+ baseline=\S+ ratio=\S+ \S+=\S+ goals_met=n/a", summary
    )


def test_leak_trace_bench_traces_the_deliberate_leaker_at_small_scale():
    missing = [tool for tool in ("chromium", "pdftoppm", "tesseract") if shutil.which(tool) is None]
    if missing:
        reason = f"print-and-OCR tools missing: {', '.join(missing)} (.ci/run installs them)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)

    output = _run("leak_trace.py", "--smoke", timeout=900)

    summary = output.strip().splitlines()[-1]
    figures = re.fullmatch(
        r"leak-trace: top1_at_500=(\S+)% folded_top1_at_1000=(\S+)% folded_top1_at_2000=(\S+)% "
        r"ocr_top1_at_2000=(\S+)% poc_top1=(\S+)% false_accusations=(\d+)/(\d+) trace_ms_(\d+)=(\d+)",
        summary,
    )
    assert figures, summary
    assert figures.group(6) == "0"  # nobody innocent named
    assert int(figures.group(7)) > 0
    assert float(figures.group(5)) > 0  # the PoC layer measured something
