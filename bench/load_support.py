"""Helpers for bench/load.sh: `prepare` logs the bench user in and writes the baseline static files; `summary`
reads wrk's reports and prints the figures."""

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import LARGE_PARTNER_USER, setup_django, summary_line  # noqa: E402


def prepare() -> None:
    """Print shell assignments: the session cookie and the four URLs. The baselines are the exact bytes of the
    list page and of the download, written under STATIC_ROOT for WhiteNoise to serve."""
    setup_django()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from advisories.models import Artifact
    from core.levels import AccessLevel

    client = Client()
    client.force_login(get_user_model().objects.get(email=LARGE_PARTNER_USER))
    artifact = (
        Artifact.objects.filter(level=AccessLevel.EARLY, advisory__identifier__regex=r"^FWN-\d{4}-0\d{4}$")
        .select_related("advisory")
        .order_by("advisory__public_release_at")[2_500]
    )
    urls = {
        "LIST_URL": reverse("advisories:list"),
        "DOWNLOAD_URL": reverse("advisories:artifact", args=[artifact.advisory.identifier, artifact.pk]),
    }
    static = Path(settings.STATIC_ROOT) / "bench"
    static.mkdir(parents=True, exist_ok=True)
    list_response = client.get(urls["LIST_URL"])
    download_response = client.get(urls["DOWNLOAD_URL"])
    assert list_response.status_code == download_response.status_code == 200
    (static / "list.html").write_bytes(list_response.content)
    (static / "download.py").write_bytes(b"".join(download_response.streaming_content))
    urls["STATIC_LIST_URL"] = f"{settings.STATIC_URL.rstrip('/')}/bench/list.html".replace("//", "/")
    urls["STATIC_DOWNLOAD_URL"] = f"{settings.STATIC_URL.rstrip('/')}/bench/download.py".replace("//", "/")
    if not urls["STATIC_LIST_URL"].startswith("/"):
        urls["STATIC_LIST_URL"] = "/" + urls["STATIC_LIST_URL"]
        urls["STATIC_DOWNLOAD_URL"] = "/" + urls["STATIC_DOWNLOAD_URL"]
    print(f"SESSION_COOKIE='{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}'")
    for name, url in urls.items():
        print(f"{name}='{url}'")
    print(f"STATIC_ROOT='{settings.STATIC_ROOT}'")


def parse_wrk(text: str) -> dict[str, float]:
    """Requests per second, p99 latency (ms) and errors (socket errors plus non-2xx/3xx) from `wrk --latency`."""

    def milliseconds(value: str) -> float:
        number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
        return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p99 = milliseconds(re.search(r"^\s+99%\s+(\S+)", text, re.MULTILINE).group(1))
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", text):
        errors += int(match.group(1))
    if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text):
        errors += sum(int(n) for n in match.groups())
    return {"rps": rps, "p99_ms": p99, "requests": requests, "errors": errors}


def summary(report_dir: str) -> None:
    reports = {path.stem: parse_wrk(path.read_text()) for path in Path(report_dir).glob("*.txt")}
    for name, figures in sorted(reports.items()):
        print(f"{name}: {json.dumps(figures)}")
    page, static = reports["list"], reports["static_list"]
    download, static_download = reports["download"], reports["static_download"]
    errors = sum(figures["errors"] for figures in reports.values())
    print(
        summary_line(
            "load",
            "list_rps",
            page["rps"],
            static["rps"],
            list_p99_ms=page["p99_ms"],
            baseline_p99_ms=static["p99_ms"],
            download_rps=download["rps"],
            download_baseline_rps=static_download["rps"],
            download_ratio=round(download["rps"] / static_download["rps"], 3),
            download_p99_ms=download["p99_ms"],
            download_baseline_p99_ms=static_download["p99_ms"],
            errors=errors,
        )
    )
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    {"prepare": prepare, "summary": lambda: summary(sys.argv[2])}[sys.argv[1]]()
