"""Helpers for bench/load.sh: `prepare` signs the bench user in (both factors), acknowledges the advisory's
handling terms and writes the baseline static files; `summary` reads wrk's reports and prints the figures. Every
response wrk counts must be the page itself (status 200, counted by bench/load_status.lua): anything else makes the
run exit 2."""

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    LARGE_PARTNER_USER,
    CannotMeasure,
    acknowledge_handling,
    load_average,
    real_page,
    run,
    setup_django,
    signed_in_client,
    summary_line,
)


def prepare() -> None:
    """Print shell assignments: the session cookie, the four URLs and the marker each page's body must contain.
    The baselines are the exact bytes of the list page and of the download, written under STATIC_ROOT for
    WhiteNoise to serve."""
    setup_django()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from advisories.models import Artifact, Delivery
    from core.levels import AccessLevel

    user = get_user_model().objects.filter(email=LARGE_PARTNER_USER).first()
    if user is None:
        raise CannotMeasure(f"no user {LARGE_PARTNER_USER}: run bench/seed_scale.py first")
    client = signed_in_client(user)
    artifacts = Artifact.objects.filter(
        level=AccessLevel.EARLY, advisory__identifier__regex=r"^FWN-\d{4}-0\d{4}$"
    ).select_related("advisory")
    artifact = artifacts.order_by("advisory__public_release_at")[artifacts.count() // 2]
    acknowledge_handling(client, artifact.advisory.identifier)
    newest = Delivery.objects.filter(partner__memberships__user=user).order_by("-delivered_at", "-advisory_id")
    urls = {
        "LIST_URL": reverse("advisories:list"),
        "DOWNLOAD_URL": reverse("advisories:artifact", args=[artifact.advisory.identifier, artifact.pk]),
    }
    markers = {
        "LIST_MARKER": newest.values_list("advisory__identifier", flat=True).first(),
        "DOWNLOAD_MARKER": "issued to",
    }
    static = Path(settings.STATIC_ROOT) / "bench"
    static.mkdir(parents=True, exist_ok=True)
    list_page = real_page(client.get(urls["LIST_URL"]), urls["LIST_URL"], markers["LIST_MARKER"].encode())
    download = real_page(client.get(urls["DOWNLOAD_URL"]), urls["DOWNLOAD_URL"], b"issued to")
    (static / "list.html").write_bytes(list_page)
    (static / "download.py").write_bytes(download)
    urls["STATIC_LIST_URL"] = f"{settings.STATIC_URL.rstrip('/')}/bench/list.html".replace("//", "/")
    urls["STATIC_DOWNLOAD_URL"] = f"{settings.STATIC_URL.rstrip('/')}/bench/download.py".replace("//", "/")
    if not urls["STATIC_LIST_URL"].startswith("/"):
        urls["STATIC_LIST_URL"] = "/" + urls["STATIC_LIST_URL"]
        urls["STATIC_DOWNLOAD_URL"] = "/" + urls["STATIC_DOWNLOAD_URL"]
    print(f"SESSION_COOKIE='{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}'")
    for name, value in {**urls, **markers}.items():
        print(f"{name}='{value}'")
    print(f"STATIC_ROOT='{settings.STATIC_ROOT}'")


def parse_wrk(text: str) -> dict[str, float]:
    """Requests per second, p99 latency (ms) and errors (socket errors, and responses other than 200 as
    bench/load_status.lua counts them: wrk itself counts a redirect as a success) from `wrk --latency`."""

    def milliseconds(value: str) -> float:
        number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
        return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p99 = milliseconds(re.search(r"^\s+99%\s+(\S+)", text, re.MULTILINE).group(1))
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    not_ok = re.search(r"Responses other than 200: (\d+)", text)
    if not_ok is None:
        raise CannotMeasure("wrk's report does not count the responses other than 200 (bench/load_status.lua)")
    socket_errors = 0
    if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text):
        socket_errors = sum(int(n) for n in match.groups())
    return {
        "rps": rps,
        "p99_ms": p99,
        "requests": requests,
        "not_200": int(not_ok.group(1)),
        "socket_errors": socket_errors,  # timeouts (wrk's 2 s) included
        "errors": int(not_ok.group(1)) + socket_errors,
    }


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
            load=load_average().replace(" ", "/"),
        )
    )
    if errors:
        not_200 = sum(figures["not_200"] for figures in reports.values())
        raise CannotMeasure(
            f"{not_200} responses other than 200 and {errors - not_200} socket errors or timeouts: not the pages timed"
        )


if __name__ == "__main__":
    run({"prepare": prepare, "summary": lambda: summary(sys.argv[2])}[sys.argv[1]])
