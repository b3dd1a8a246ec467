"""Release fan-out: release one wave to every entitled organisation (2,000, then 200) through the real service.

    .venv/bin/python bench/fanout.py [--repeat 5]
    .venv/bin/python bench/fanout.py --smoke      # 2 runs of each size, on the --smoke seed, for CI

Needs the seeded bench database (bench/seed_scale.py). For each size it creates a fresh advisory (two descriptions,
two files) with a generic wave due now, so that every active organisation is entitled, and times
`advisories.services.release_due_waves()` end to end (lock, entitlement, deliveries, grants, audit, commit, notice
tasks queued on Redis DB 11); the small run keeps a tenth of the organisations (200 of 2,000) and suspends the
others for its duration. It counts the SQL queries in one more run of each size. Baseline: hand-written
INSERT ... SELECT statements writing the same delivery and permission rows for another fresh advisory, in one
transaction. Exits 2 when a release does not deliver to every active organisation.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REDIS_URL, CannotMeasure, load_average, median, run, setup_django, summary_line  # noqa: E402

BASELINE_SQL = [
    """INSERT INTO advisories_delivery (wave_id, advisory_id, partner_id, level, fingerprint_token, delivered_at)
       SELECT %(wave)s, %(advisory)s, p.id, 1, md5(random()::text) || md5(random()::text), now()
       FROM partners_partner p WHERE p.status = 'active'""",
    """INSERT INTO advisories_advisorygroupobjectpermission (permission_id, group_id, content_object_id)
       SELECT (SELECT id FROM auth_permission WHERE codename = 'receive_advisory'), p.group_id, %(advisory)s
       FROM partners_partner p WHERE p.status = 'active'""",
    """INSERT INTO advisories_advisorydocumentgroupobjectpermission (permission_id, group_id, content_object_id)
       SELECT (SELECT id FROM auth_permission WHERE codename = 'receive_advisorydocument'), p.group_id, doc.id
       FROM partners_partner p CROSS JOIN advisories_advisorydocument doc
       WHERE p.status = 'active' AND doc.advisory_id = %(advisory)s AND doc.level <= 1""",
    "UPDATE advisories_releasewave SET status = 'released', released_at = now() WHERE id = %(wave)s",
]


def new_due_wave(number: int):
    """A fresh scheduled advisory with a generic wave due now (the wave every active organisation receives)."""
    from django.utils import timezone

    from advisories.models import Advisory, AdvisoryDocument, AdvisoryStatus, Artifact, ReleaseWave
    from core.levels import AccessLevel

    now = timezone.now()
    advisory = Advisory.objects.create(
        identifier=f"FWN-{now.year}-9{number:04d}{now.microsecond:06d}",
        title=f"Fan-out benchmark advisory {number}",
        public_release_at=now,
        status=AdvisoryStatus.SCHEDULED,
    )
    for level in (AccessLevel.GENERIC, AccessLevel.STANDARD):
        AdvisoryDocument.objects.create(advisory=advisory, level=level, title="Description", body_markdown="Text.")
    for level, name in ((AccessLevel.STANDARD, "detection.yar"), (AccessLevel.EARLY, "poc.py")):
        Artifact.objects.create(
            advisory=advisory, level=level, name=name, file=f"artifacts/bench/{name}", size=1, sha256="0" * 64
        )
    return ReleaseWave.objects.create(advisory=advisory, level=AccessLevel.GENERIC, scheduled_at=now)


class Counter:
    number = 0

    def next(self) -> int:
        self.number += 1
        return self.number


def time_release(counter: Counter) -> tuple[float, int]:
    from advisories import services

    new_due_wave(counter.next())
    started = time.perf_counter()
    released = services.release_due_waves()
    elapsed = time.perf_counter() - started
    if len(released) != 1:
        raise CannotMeasure(f"release_due_waves released {released}, not the one wave due")
    return elapsed, released[0]


def count_release_queries(counter: Counter) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from advisories import services

    new_due_wave(counter.next())
    with CaptureQueriesContext(connection) as queries:
        released = services.release_due_waves()
    if len(released) != 1:
        raise CannotMeasure(f"release_due_waves released {released}, not the one wave due")
    return len(queries)


def time_baseline(counter: Counter) -> float:
    from django.db import connection, transaction

    wave = new_due_wave(counter.next())
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in BASELINE_SQL:
            cursor.execute(statement, {"wave": wave.pk, "advisory": wave.advisory_id})
    return time.perf_counter() - started


def measure(counter: Counter, repeat: int) -> dict[str, float]:
    from advisories.models import Delivery
    from partners.models import Partner, PartnerStatus

    organisations = Partner.objects.filter(status=PartnerStatus.ACTIVE).count()
    time_release(counter)  # warm-up: imports, caches, connection
    release_times, baseline_times = [], []
    for _ in range(repeat):
        elapsed, wave_id = time_release(counter)
        release_times.append(elapsed)
        delivered = Delivery.objects.filter(wave_id=wave_id).count()
        if delivered != organisations:
            raise CannotMeasure(f"the release delivered to {delivered} of {organisations} active organisations")
        baseline_times.append(time_baseline(counter))
    return {
        "organisations": organisations,
        "seconds": median(release_times),
        "baseline": median(baseline_times),
        "queries": count_release_queries(counter),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="2 runs of each size, for CI")
    arguments = parser.parse_args()
    repeat = 2 if arguments.smoke else arguments.repeat
    setup_django()
    import redis

    from partners.models import Partner, PartnerStatus

    counter = Counter()
    full = measure(counter, repeat)
    if full["organisations"] < 10:
        raise CannotMeasure(f"{full['organisations']} active organisations: run bench/seed_scale.py first")
    active = Partner.objects.filter(status=PartnerStatus.ACTIVE).order_by("pk").values_list("pk", flat=True)
    kept = list(active[: full["organisations"] // 10])
    others = Partner.objects.filter(status=PartnerStatus.ACTIVE).exclude(pk__in=kept)
    suspended = list(others.values_list("pk", flat=True))
    try:
        others.update(status=PartnerStatus.SUSPENDED)
        small = measure(counter, repeat)
    finally:
        Partner.objects.filter(pk__in=suspended).update(status=PartnerStatus.ACTIVE)
    redis.Redis.from_url(REDIS_URL).flushdb()  # the queued notice tasks: nobody should send them

    for measured in (full, small):
        print(
            f"{measured['organisations']} organisations: release {measured['seconds'] * 1000:.0f} ms, "
            f"baseline {measured['baseline'] * 1000:.0f} ms, {measured['queries']} queries"
        )
    if small["queries"] != full["queries"]:
        print(f"query count differs: {full['queries']} at {full['organisations']}, {small['queries']} at a tenth")
    print(
        summary_line(
            "fanout",
            "seconds_all",
            full["seconds"],
            full["baseline"],
            organisations=full["organisations"],
            queries_all=full["queries"],
            organisations_tenth=small["organisations"],
            seconds_tenth=small["seconds"],
            baseline_tenth=small["baseline"],
            ratio_tenth=round(small["seconds"] / small["baseline"], 2),
            queries_tenth=small["queries"],
            target="ratio<=3,seconds_all<2,queries_all=queries_tenth",
            met=full["seconds"] < 2 and full["seconds"] <= 3 * full["baseline"] and full["queries"] == small["queries"],
            load=load_average().replace(" ", "/"),
        )
    )


if __name__ == "__main__":
    run(main)
