"""Partner pages for a user of a large organisation: advisory list (page 1 and a deep page), an advisory page and a
download, each timed over a few hundred requests with Django's test Client (server time, no network).

    .venv/bin/python bench/pages.py [--requests 300]
    .venv/bin/python bench/pages.py --smoke     # 10 requests of each, on the --smoke seed, for CI

Needs the seeded bench database (bench/seed_scale.py). The user belongs to the largest early-level organisation,
which holds every advisory; signed in with both factors, and the handling terms of the advisory acknowledged through
their page, as its reader would have. Every response timed must be the page itself (status 200 and a marker of its
content: the advisory identifiers the page should show, the "issued to" banner of a personalised copy): a redirect
or an error page exits with status 2 instead of being timed. Baselines (bench/baseline_views.py): the organisation's
own deliveries and the same files through the same templates, without entitlement, access records or
personalisation. Query counts are taken on one more request of each page.
"""

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    LARGE_PARTNER_USER,
    CannotMeasure,
    acknowledge_handling,
    load_average,
    median,
    percentile,
    real_page,
    run,
    setup_django,
    signed_in_client,
    summary_line,
)

DEEP_PAGE = 150
ROUNDS = 10
# The most each page may take, as a multiple of its baseline (bench/README.md, "pages.py").
GOALS = {"list_p1": 1.3, "list_deep": 1.3, "detail": 1.5, "download": 3.0}


def timed(client, url: str, requests: int, markers: tuple[bytes, ...]) -> list[float]:
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        if response.streaming:
            response.streaming_content = [b"".join(response.streaming_content)]
        times.append(time.perf_counter() - started)
        real_page(response, url, *markers)
    return times


def query_count(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    return len(queries)


def subjects(user) -> tuple[str, dict[str, tuple[str, str, tuple[bytes, ...], tuple[bytes, ...]]]]:
    """The advisory opened, and each page: its URL, its baseline's URL, the markers of the page and of its
    baseline. The deep list page is the 150th (or the last), reached by position as its Older link does."""
    from django.urls import reverse

    from advisories.models import Artifact, Delivery
    from advisories.selectors import ListCursor
    from advisories.views import ADVISORIES_PER_PAGE
    from core.levels import AccessLevel

    # What the list must show: the organisation's deliveries, newest first (fanout.py's advisories included).
    rows = list(
        Delivery.objects.filter(partner__memberships__user=user)
        .order_by("-delivered_at", "-advisory_id")
        .values_list("advisory__identifier", "delivered_at", "advisory_id")
    )
    deliveries = [identifier for identifier, _, _ in rows]
    seeded = sorted(identifier for identifier in deliveries if re.fullmatch(r"FWN-\d{4}-0\d{4}", identifier))
    if not seeded:
        raise CannotMeasure(f"{LARGE_PARTNER_USER} holds no seeded advisory: run bench/seed_scale.py first")
    pages = -(-len(deliveries) // ADVISORIES_PER_PAGE)
    deep_page = min(DEEP_PAGE, pages)
    advisory = seeded[len(seeded) // 2]
    artifact = Artifact.objects.get(advisory__identifier=advisory, level=AccessLevel.EARLY)
    first = (deliveries[0].encode(), deliveries[ADVISORIES_PER_PAGE - 1].encode() if pages > 1 else b"")
    deep = (deliveries[(deep_page - 1) * ADVISORIES_PER_PAGE].encode(),)
    # The deep page as its Older link reaches it: older than the last row of the page before it.
    _, delivered_at, advisory_id = rows[max(0, (deep_page - 1) * ADVISORIES_PER_PAGE - 1)]
    deep_query = (
        f"?before={ListCursor(delivered_at=delivered_at, advisory_id=advisory_id).token}" if deep_page > 1 else ""
    )
    document = (advisory.encode(), b"Technical details and detection")
    download = (b"proof of concept step",)
    issued = (b"issued to",)  # the personalised copy's banner, which the baselines leave out
    return advisory, {
        "list_p1": (reverse("advisories:list"), reverse("plain-list"), first, first),
        "list_deep": (
            f"{reverse('advisories:list')}{deep_query}",
            f"{reverse('plain-list')}{deep_query}",
            deep,
            deep,
        ),
        "detail": (
            reverse("advisories:detail", args=[advisory]),
            reverse("plain-detail", args=[advisory]),
            document + issued,
            document,
        ),
        "download": (
            reverse("advisories:artifact", args=[advisory, artifact.pk]),
            reverse("plain-download", args=[advisory, artifact.pk]),
            download + issued,
            download,
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--smoke", action="store_true", help="10 requests of each page, for CI")
    arguments = parser.parse_args()
    requests = ROUNDS if arguments.smoke else arguments.requests
    warm_up = 1 if arguments.smoke else 10
    setup_django()
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(email=LARGE_PARTNER_USER).first()
    if user is None:
        raise CannotMeasure(f"no user {LARGE_PARTNER_USER}: run bench/seed_scale.py first")
    client = signed_in_client(user)
    advisory, pages = subjects(user)
    acknowledge_handling(client, advisory)
    figures = {}
    for name, (url, baseline_url, markers, baseline_markers) in pages.items():
        timed(client, url, warm_up, markers)
        timed(client, baseline_url, warm_up, baseline_markers)
        page_times, baseline_times = [], []
        # Interleaved in rounds, so that the machine's noise falls on both alike.
        for _ in range(ROUNDS):
            page_times += timed(client, url, max(1, requests // ROUNDS), markers)
            baseline_times += timed(client, baseline_url, max(1, requests // ROUNDS), baseline_markers)
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
            f"{name} ({url}): median {f['median']:.1f} ms, p95 {f['p95']:.1f} ms, {f['queries']} queries; "
            f"baseline median {f['baseline']:.1f} ms, p95 {f['baseline_p95']:.1f} ms, {f['baseline_queries']} "
            f"queries; ratio {f['median'] / f['baseline']:.2f} (goal {GOALS[name]}x)",
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
    others["met"] = all(f["median"] / f["baseline"] <= GOALS[name] for name, f in figures.items())
    others["load"] = load_average().replace(" ", "/")
    print(summary_line("pages", "list_p1_median_ms", first["median"], first["baseline"], **others))


if __name__ == "__main__":
    run(main)
