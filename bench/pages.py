"""Partner pages for a user of a large organisation: advisory list (page 1 and a deep page), an advisory page and a
download, each timed over a few hundred requests with Django's test Client (server time, no network).

    .venv/bin/python bench/pages.py [--requests 300]

Needs the seeded bench database (bench/seed_scale.py). The user belongs to the largest early-level organisation,
which holds all 5,000 advisories. Baselines (bench/baseline_views.py): the same rows through the same templates
without entitlement, access records or personalisation. Query counts are taken on one more request of each page.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import LARGE_PARTNER_USER, median, percentile, setup_django, summary_line  # noqa: E402

DEEP_PAGE = 150


def timed(client, url: str, requests: int) -> list[float]:
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    return times


def query_count(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    return len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    arguments = parser.parse_args()
    setup_django()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from advisories.models import Advisory, Artifact
    from core.levels import AccessLevel

    user = get_user_model().objects.get(email=LARGE_PARTNER_USER)
    client = Client()
    client.force_login(user)
    advisory = Advisory.objects.filter(identifier__regex=r"^FWN-\d{4}-0\d{4}$").order_by("public_release_at")[2_500]
    artifact = Artifact.objects.get(advisory=advisory, level=AccessLevel.EARLY)
    pages = {
        "list_p1": (reverse("advisories:list"), reverse("plain-list")),
        "list_deep": (f"{reverse('advisories:list')}?page={DEEP_PAGE}", f"{reverse('plain-list')}?page={DEEP_PAGE}"),
        "detail": (
            reverse("advisories:detail", args=[advisory.identifier]),
            reverse("plain-detail", args=[advisory.identifier]),
        ),
        "download": (
            reverse("advisories:artifact", args=[advisory.identifier, artifact.pk]),
            reverse("plain-download", args=[advisory.identifier, artifact.pk]),
        ),
    }
    figures = {}
    for name, (url, baseline_url) in pages.items():
        timed(client, url, 10)  # warm-up
        timed(client, baseline_url, 10)
        page_times, baseline_times = [], []
        # Interleaved in rounds, so that the machine's noise falls on both alike.
        for _ in range(10):
            page_times += timed(client, url, arguments.requests // 10)
            baseline_times += timed(client, baseline_url, arguments.requests // 10)
        figures[name] = {
            "median": median(page_times) * 1000,
            "p95": percentile(page_times, 0.95) * 1000,
            "baseline": median(baseline_times) * 1000,
            "baseline_p95": percentile(baseline_times, 0.95) * 1000,
            "queries": query_count(client, url),
            "baseline_queries": query_count(client, baseline_url),
        }
        f = figures[name]
        print(
            f"{name}: median {f['median']:.1f} ms, p95 {f['p95']:.1f} ms, {f['queries']} queries; baseline median "
            f"{f['baseline']:.1f} ms, p95 {f['baseline_p95']:.1f} ms, {f['baseline_queries']} queries; "
            f"ratio {f['median'] / f['baseline']:.2f}",
            flush=True,
        )
    first = figures["list_p1"]
    others = {}
    for name, f in figures.items():
        if name != "list_p1":
            others[f"{name}_median_ms"] = round(f["median"], 1)
            others[f"{name}_baseline_ms"] = round(f["baseline"], 1)
            others[f"{name}_ratio"] = round(f["median"] / f["baseline"], 2)
        others[f"{name}_p95_ms"] = round(f["p95"], 1)
        others[f"{name}_queries"] = f["queries"]
    worst = max(f["median"] / f["baseline"] for f in figures.values())
    others["worst_ratio"] = round(worst, 2)
    others["met"] = worst <= 1.5
    print(summary_line("pages", "list_p1_median_ms", first["median"], first["baseline"], **others))


if __name__ == "__main__":
    main()
