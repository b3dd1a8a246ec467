"""Shared set-up for the benchmark scripts: environment defaults, Django, timing helpers and the summary line.

Every script runs against its own PostgreSQL database and Redis database, never the development ones:
`FOREWARN_BENCH_DATABASE_URL` (default postgres://postgres@127.0.0.1:5432/fw_bench) and
`FOREWARN_BENCH_REDIS_URL` (default redis://127.0.0.1:6379/11); files go to `FOREWARN_BENCH_VAR_DIR` (default
var/bench). A script that cannot measure what it claims (a redirect or an error page instead of the page it times,
nothing seeded) raises CannotMeasure and exits with status 2.
"""

import os
import statistics
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get("FOREWARN_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/fw_bench")
REDIS_URL = os.environ.get("FOREWARN_BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
VAR_DIR = Path(os.environ.get("FOREWARN_BENCH_VAR_DIR", REPO_ROOT / "var" / "bench"))

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
    (VAR_DIR / "static").mkdir(parents=True, exist_ok=True)  # STATIC_ROOT of bench/settings.py
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


class CannotMeasure(RuntimeError):
    """The script would not measure what it claims: it exits with status 2 and no summary line."""


def run(main) -> None:
    """Run a script's main(); exit 2 when it cannot measure what it claims."""
    try:
        main()
    except CannotMeasure as error:
        print(f"bench: cannot measure: {error}", file=sys.stderr)
        sys.exit(2)


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def signed_in_client(user):
    """A test Client of `user` after the complete login: password and second factor (a confirmed authenticator
    whose id is in the session, where django-otp's middleware looks), so that pages are not answered by the
    second-factor step."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user)
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="Bench authenticator", defaults={"confirmed": True})
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def acknowledge_handling(client, identifier: str) -> None:
    """Acknowledge the advisory's TLP label and handling terms through its page, as its reader does once before
    opening it or its files."""
    from django.urls import reverse

    url = reverse("advisories:acknowledge", args=[identifier])
    response = client.post(url, {"acknowledge": "on"})
    if response.status_code != 302 or response["Location"] != reverse("advisories:detail", args=[identifier]):
        raise CannotMeasure(f"acknowledging {identifier} answered {response.status_code}, not a redirect to it")


def real_page(response, url: str, *markers: bytes) -> bytes:
    """The body of `response` when it is the page itself: status 200 and every marker of its content in it.
    Anything else (the second-factor step, the handling acknowledgement, a login page, an error) raises
    CannotMeasure: timing it would measure something else."""
    if response.status_code != 200:
        where = f" to {response['Location']}" if response.has_header("Location") else ""
        raise CannotMeasure(f"{url} answered {response.status_code}{where}, not the page")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    for marker in markers:
        if marker not in body:
            raise CannotMeasure(f"{url} answered 200 without {marker!r}: not the page it should time")
    return body
