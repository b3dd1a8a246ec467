"""Shared set-up for the benchmark scripts: environment defaults, Django, timing helpers and the summary line.

Every script runs against its own PostgreSQL database and Redis database, never the development ones:
`FOREWARN_BENCH_DATABASE_URL` (default postgres://postgres@127.0.0.1:5432/fw_bench) and
`FOREWARN_BENCH_REDIS_URL` (default redis://127.0.0.1:6379/11).
"""

import os
import statistics
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get("FOREWARN_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/fw_bench")
REDIS_URL = os.environ.get("FOREWARN_BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
VAR_DIR = REPO_ROOT / "var" / "bench"

# What the seeded program looks like; the other scripts read these to find their subjects.
LARGE_PARTNER_NAME = "Partner 0001 Security Ltd"
LARGE_PARTNER_USER = "analyst0001-0001@partner0001.test"
BENCH_PASSWORD = "forewarn-bench-2026"  # noqa: S105 (bench data, like the demo logins)


def bench_environment(**overrides) -> dict[str, str]:
    """The environment every bench process (this one, gunicorn, Celery) runs with."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": DATABASE_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "FOREWARN_VAR_DIR": str(VAR_DIR),
        "DJANGO_LOG_LEVEL": "WARNING",
        **overrides,
    }


def setup_django(**overrides) -> None:
    os.environ.update(bench_environment(**overrides))
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    import django

    django.setup()


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p99 of 50 values is the largest but none)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values)


def summary_line(name: str, figure: str, value: float, baseline: float, unit: str = "", **others) -> str:
    """`bench <name>: <figure>=<value> baseline=<value> ratio=<value>` plus other figures, on one line."""
    ratio = value / baseline if baseline else float("inf")
    parts = [f"{figure}={value:.4g}{unit}", f"baseline={baseline:.4g}{unit}", f"ratio={ratio:.2f}"]
    parts += [f"{key}={val:.4g}" if isinstance(val, float) else f"{key}={val}" for key, val in others.items()]
    return f"bench {name}: " + " ".join(parts)
