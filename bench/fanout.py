"""Release fan-out: release one wave to every entitled organisation (10,000, then a tenth) through the real service.

    .venv/bin/python bench/fanout.py [--organisations 10000] [--repeat 5]
    .venv/bin/python bench/fanout.py --smoke      # 40 organisations, 2 runs of each size, on the --smoke seed, for CI

Needs the seeded bench database (bench/seed_scale.py: 2,000 organisations). When --organisations asks for more
active organisations than the seed has, the others are added for the run ("Fan-out NNNNN Ltd": a Group, the seed's
mix of levels and the agreements each level needs, valid today) and deleted at the end with their deliveries and
grants, so that the other benches find the seeded program as it was. For each size it creates a fresh advisory (two
descriptions, two files) with a generic wave due now, so that every active organisation is entitled, and times
`advisories.services.release_due_waves()` end to end (lock, entitlement, deliveries, grants, audit, commit, notice
tasks queued on Redis DB 11); the small run keeps a tenth of the organisations and suspends the others for its
duration. It counts the SQL queries in one more run of each size: they must be equal. Baseline: hand-written
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

# The organisations this script adds ("Fan-out NNNNN Ltd") and deletes at the end, with what the releases gave them.
ADD_ORGANISATIONS_SQL = [
    """INSERT INTO auth_group (name)
       SELECT 'partner:Fan-out ' || lpad(i::text, 5, '0') || ' Ltd' FROM generate_series(1, %(count)s) i""",
    # The seed's mix of levels (10 % early, 20 % standard, the rest generic) and of countries.
    """INSERT INTO partners_partner (legal_name, trading_name, country, group_id, status, assigned_level, created_at,
                                     status_changed_at, seat_limit)
       SELECT substr(g.name, 9), '', (ARRAY['US','DE','FR','GB','JP','IL','NL','SE','CA','AU'])[1 + g.id %% 10],
              g.id, 'active', CASE WHEN g.id %% 10 = 0 THEN 3 WHEN g.id %% 10 IN (1, 2) THEN 2 ELSE 1 END, now(),
              NULL, 10
       FROM auth_group g WHERE g.name LIKE 'partner:Fan-out %%'""",
    """INSERT INTO compliance_agreement (partner_id, contract_version_id, signer_name, signer_title, signed_at,
                                         valid_until, user_agent, signed_text_sha256)
       SELECT p.id, v.id, 'Alex Signer', 'CISO', now() - interval '1 day', now() + interval '300 days', '',
              v.text_sha256
       FROM partners_partner p JOIN compliance_contractversion v ON v.required_from_level <= p.assigned_level
       WHERE p.legal_name LIKE 'Fan-out %%'""",
    "ANALYZE auth_group, partners_partner, compliance_agreement",
]
DELETE_ADDED_ORGANISATIONS_SQL = [
    """DELETE FROM advisories_advisorygroupobjectpermission
       WHERE group_id IN (SELECT group_id FROM partners_partner WHERE legal_name LIKE 'Fan-out %%')""",
    """DELETE FROM advisories_advisorydocumentgroupobjectpermission
       WHERE group_id IN (SELECT group_id FROM partners_partner WHERE legal_name LIKE 'Fan-out %%')""",
    """DELETE FROM advisories_artifactgroupobjectpermission
       WHERE group_id IN (SELECT group_id FROM partners_partner WHERE legal_name LIKE 'Fan-out %%')""",
    """DELETE FROM advisories_notice
       WHERE partner_id IN (SELECT id FROM partners_partner WHERE legal_name LIKE 'Fan-out %%')""",
    """DELETE FROM advisories_delivery
       WHERE partner_id IN (SELECT id FROM partners_partner WHERE legal_name LIKE 'Fan-out %%')""",
    """DELETE FROM compliance_agreement
       WHERE partner_id IN (SELECT id FROM partners_partner WHERE legal_name LIKE 'Fan-out %%')""",
    "DELETE FROM partners_partner WHERE legal_name LIKE 'Fan-out %%'",
    "DELETE FROM auth_group WHERE name LIKE 'partner:Fan-out %%'",
]


def execute_all(statements: list[str], **parameters) -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement, parameters)


def add_organisations(wanted: int) -> int:
    """Top the program up to `wanted` active organisations; returns how many were added."""
    from partners.models import Partner, PartnerStatus

    count = wanted - Partner.objects.filter(status=PartnerStatus.ACTIVE).count()
    if count > 0:
        execute_all(ADD_ORGANISATIONS_SQL, count=count)
    return max(count, 0)


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
    parser.add_argument("--organisations", type=int, default=10_000, help="active organisations (default 10,000)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="40 organisations, 2 runs of each size, for CI")
    arguments = parser.parse_args()
    repeat = 2 if arguments.smoke else arguments.repeat
    organisations = 40 if arguments.smoke else arguments.organisations
    setup_django()
    from partners.models import Partner

    if not Partner.objects.exists():
        raise CannotMeasure("no organisations: run bench/seed_scale.py first")
    execute_all(DELETE_ADDED_ORGANISATIONS_SQL)  # left by an interrupted run
    try:
        added = add_organisations(organisations)
        print(f"{added} organisations added for the run (load average {load_average()})", flush=True)
        full, small = measure_both(repeat)
    finally:
        execute_all(DELETE_ADDED_ORGANISATIONS_SQL)
    report(full, small)


def measure_both(repeat: int) -> tuple[dict, dict]:
    """All active organisations, then a tenth of them (the others suspended meanwhile)."""
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
    return full, small


def report(full: dict, small: dict) -> None:
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
            target="ratio<=2,seconds_all<2,queries_all=queries_tenth",
            met=full["seconds"] < 2 and full["seconds"] <= 2 * full["baseline"] and full["queries"] == small["queries"],
            load=load_average().replace(" ", "/"),
        )
    )


if __name__ == "__main__":
    run(main)
