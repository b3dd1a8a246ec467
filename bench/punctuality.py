"""Release punctuality with the notices flowing: a real Celery beat, release worker and notice worker on Redis
release 50 waves scheduled over the next minute, and every notice email goes over SMTP to a local sink.

    .venv/bin/python bench/punctuality.py [--waves 50] [--spread 60] [--interval 1] [--notice-timeout 600]
                                          [--level early|standard|generic] [--smoke]

Needs the seeded bench database (bench/seed_scale.py); the broker is Redis DB 11 (flushed first). Beat sends
`release_due_waves` every FOREWARN_RELEASE_INTERVAL_SECONDS (1 s here; the default is 5 s) to the `releases` queue,
taken by the release worker (two processes, as in the Procfile); the notice worker (prefork, one process per core)
takes the default queue: the notice batches and emails of every wave. The waves cycle early / standard / generic
(220 / 620 / 2,000 entitled organisations; `--level generic` makes every wave a 2,000-organisation one), at random
instants 5 to 5 + spread s ahead. Lateness of a wave = the time
its release was recorded in the audit log (just before commit) minus its scheduled time; "early" counts waves
released or delivered before their time. Baseline: the polling delay alone, i.e. for each wave the time from its
scheduled instant to the next release tick beat sent (from beat's log). Notices: for each wave, the time from its
release to the last of its notice emails accepted by the SMTP sink (the notice's `emailed_at`), per level (a generic
wave reaches every organisation), and the emails the sink accepted per second from its first to its last.
"""

import argparse
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    REDIS_URL,
    REPO_ROOT,
    VAR_DIR,
    bench_environment,
    median,
    percentile,
    setup_django,
    summary_line,
)

TICK_RECEIVED = re.compile(
    r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}): INFO/MainProcess\] Task advisories\.tasks\.release_due_waves\[[^\]]+\]"
    r" received",
    re.MULTILINE,
)
TICK_SENT = re.compile(
    r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}): INFO/MainProcess\] Scheduler: Sending due task release-due-waves",
    re.MULTILINE,
)


def start(name: str, arguments: list[str], environment: dict[str, str], niceness: int = 0) -> subprocess.Popen:
    log = (VAR_DIR / f"punctuality-{name}.log").open("wb")
    return subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, *arguments],
        cwd=REPO_ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=lambda: os.nice(niceness),
    )


def celery(*arguments: str) -> list[str]:
    return ["-m", "celery", "--app", "config", *arguments, "--loglevel", "INFO"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def tick_times(name: str = "release-worker", pattern: re.Pattern = TICK_RECEIVED) -> list[datetime]:
    """When the worker received (or beat sent) each release tick, from their logs (UTC)."""
    text = (VAR_DIR / f"punctuality-{name}.log").read_text(errors="replace")
    return [datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=UTC) for stamp in pattern.findall(text)]


LEVELS = ("early", "standard", "generic")


def schedule_waves(count: int, start_at: datetime, spread: float, only_level: str | None = None) -> list[int]:
    from advisories.models import Advisory, AdvisoryDocument, AdvisoryStatus, Artifact, ReleaseWave
    from core.levels import AccessLevel

    chooser = random.Random(11)
    levels = [AccessLevel.EARLY, AccessLevel.STANDARD, AccessLevel.GENERIC]
    if only_level:
        levels = [levels[LEVELS.index(only_level)]]
    wave_ids = []
    for number in range(count):
        at = start_at + timedelta(seconds=5 + chooser.uniform(0, spread))
        advisory = Advisory.objects.create(
            identifier=f"FWN-{at.year}-8{number:03d}{at.microsecond:06d}",
            title=f"Punctuality benchmark advisory {number}",
            public_release_at=at,
            status=AdvisoryStatus.SCHEDULED,
        )
        for level in (AccessLevel.GENERIC, AccessLevel.STANDARD):
            AdvisoryDocument.objects.create(advisory=advisory, level=level, title="Description", body_markdown="Text")
        for level, name in ((AccessLevel.STANDARD, "detection.yar"), (AccessLevel.EARLY, "poc.py")):
            Artifact.objects.create(
                advisory=advisory, level=level, name=name, file=f"artifacts/bench/{name}", size=1, sha256="0" * 64
            )
        wave = ReleaseWave.objects.create(advisory=advisory, level=levels[number % len(levels)], scheduled_at=at)
        wave_ids.append(wave.pk)
    return wave_ids


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--waves", type=int, default=50)
    parser.add_argument("--spread", type=float, default=60.0, help="seconds over which the waves fall due")
    parser.add_argument("--interval", type=float, default=1.0, help="FOREWARN_RELEASE_INTERVAL_SECONDS (default 1)")
    parser.add_argument("--notice-timeout", type=float, default=600.0, help="seconds to wait for the last email")
    parser.add_argument("--level", choices=LEVELS, help="every wave at this level (default: the three in turn)")
    parser.add_argument("--smoke", action="store_true", help="3 waves within 5 s: checks the bench still measures")
    arguments = parser.parse_args()
    if arguments.smoke:
        arguments.waves, arguments.spread, arguments.notice_timeout = 3, 5.0, 120.0
    return arguments


def start_pipeline(interval: float, sink_log: Path) -> list[subprocess.Popen]:
    """The SMTP sink, the release worker, the notice worker and beat, as in production (Procfile)."""
    smtp_port = free_port()
    environment = bench_environment(
        FOREWARN_RELEASE_INTERVAL_SECONDS=str(interval),
        DJANGO_LOG_LEVEL="INFO",
        DJANGO_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        FOREWARN_BENCH_SMTP_PORT=str(smtp_port),
        PYTHONUNBUFFERED="1",
    )
    # One message per worker process, as the production settings have it (CELERY_WORKER_PREFETCH_MULTIPLIER).
    quiet = ["--without-gossip", "--without-mingle", "--without-heartbeat", "--prefetch-multiplier", "1"]
    return [
        start("smtp-sink", ["bench/smtp_sink.py", "--port", str(smtp_port), "--log", str(sink_log)], environment),
        start(
            "release-worker",
            celery("worker", "--queues", "releases", "--concurrency", "2", "--hostname", "releases@%h", *quiet),
            environment,
        ),
        # Niced as in the Procfile: the release worker and beat come first when the cores are busy.
        start(
            "worker",
            celery("worker", "--queues", "celery", "--hostname", "notices@%h", *quiet),
            environment,
            niceness=10,
        ),
        start("beat", celery("beat", "--max-interval", str(max(1, int(interval)))), environment),
    ]


def release_waves(arguments: argparse.Namespace, processes: list[subprocess.Popen]) -> tuple[list[int], float]:
    """Once the first tick arrives, schedule the waves and wait for their release, then for their notice emails (at
    most --notice-timeout). Returns the waves' ids and how long the notices were waited for."""
    from django.utils import timezone

    from advisories.models import Delivery, Notice, ReleaseWave, WaveStatus

    deadline = time.monotonic() + 60
    while not tick_times():
        if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
            raise SystemExit("beat and the release worker did not start: see var/bench/punctuality-*.log")
        time.sleep(0.2)
    wave_ids = schedule_waves(arguments.waves, timezone.now(), arguments.spread, arguments.level)
    last = ReleaseWave.objects.filter(pk__in=wave_ids).order_by("-scheduled_at").first().scheduled_at
    print(f"{len(wave_ids)} waves scheduled until {last:%H:%M:%S} UTC; waiting for their release", flush=True)
    while ReleaseWave.objects.filter(pk__in=wave_ids, status=WaveStatus.SCHEDULED).exists():
        if timezone.now() > last + timedelta(seconds=60):
            raise SystemExit("waves still unreleased a minute after the last one was due")
        time.sleep(0.5)
    released_all_at = time.monotonic()
    print("every wave released; waiting for the last notice email", flush=True)
    pending_notices = Notice.objects.filter(wave_id__in=wave_ids, emailed_at__isnull=True)
    pending_deliveries = Delivery.objects.filter(wave_id__in=wave_ids, notified_at__isnull=True)
    while pending_deliveries.exists() or pending_notices.exists():
        if time.monotonic() > released_all_at + arguments.notice_timeout:
            break
        time.sleep(1)
    return wave_ids, time.monotonic() - released_all_at


def wave_timings(wave_ids: list[int]) -> dict:
    """Per wave: lateness (audit log and `released_at`), beat's next tick and its receipt by the release worker
    after the wave fell due, release to last notice email; and how many waves were released or delivered early."""
    from django.db.models import Max, Min

    from advisories.models import Delivery, Notice, ReleaseWave
    from core.models import AuditEvent

    recorded = {
        int(target_id): created_at
        for target_id, created_at in AuditEvent.objects.filter(
            action="wave.released", target_type="advisories.ReleaseWave", target_id__in=[str(i) for i in wave_ids]
        ).values_list("target_id", "created_at")
    }
    first_delivery = dict(
        Delivery.objects.filter(wave_id__in=wave_ids)
        .values("wave_id")
        .annotate(first=Min("delivered_at"))
        .values_list("wave_id", "first")
    )
    last_email = dict(
        Notice.objects.filter(wave_id__in=wave_ids, emailed_at__isnull=False)
        .values("wave_id")
        .annotate(last=Max("emailed_at"))
        .values_list("wave_id", "last")
    )
    sent, received = sorted(tick_times("beat", TICK_SENT)), sorted(tick_times())
    timings = {name: [] for name in ("lateness", "recorded_lateness", "polling", "pickup", "to_last_email")}
    timings["early"] = 0
    timings["to_last_email_by_level"] = {}
    for wave in ReleaseWave.objects.filter(pk__in=wave_ids):
        timings["lateness"].append((recorded[wave.pk] - wave.scheduled_at).total_seconds())
        timings["recorded_lateness"].append((wave.released_at - wave.scheduled_at).total_seconds())
        if wave.released_at < wave.scheduled_at or first_delivery.get(wave.pk, wave.scheduled_at) < wave.scheduled_at:
            timings["early"] += 1
        if wave.pk in last_email:
            to_last_email = (last_email[wave.pk] - wave.released_at).total_seconds()
            timings["to_last_email"].append(to_last_email)
            level = wave.get_level_display().lower()
            timings["to_last_email_by_level"].setdefault(level, []).append(to_last_email)
        for ticks, delays in ((sent, timings["polling"]), (received, timings["pickup"])):
            next_tick = next((tick for tick in ticks if tick >= wave.scheduled_at), None)
            if next_tick is not None:
                delays.append((next_tick - wave.scheduled_at).total_seconds())
    return timings


def report(timings: dict, notices: dict, interval: float) -> None:
    lateness, recorded_lateness, polling, pickup, to_last_email, early = (
        timings[name] for name in ("lateness", "recorded_lateness", "polling", "pickup", "to_last_email", "early")
    )
    print(
        f"lateness: median {median(lateness):.3f} s, p99 {percentile(lateness, 0.99):.3f} s, "
        f"max {max(lateness):.3f} s; release instant recorded: median {median(recorded_lateness):.3f} s, "
        f"p99 {percentile(recorded_lateness, 0.99):.3f} s; beat's next tick (baseline): median "
        f"{median(polling):.3f} s, p99 {percentile(polling, 0.99):.3f} s; release worker received it: median "
        f"{median(pickup):.3f} s, p99 {percentile(pickup, 0.99):.3f} s; released early: {early}"
    )
    print(
        f"notices: {notices['count']} in inboxes, {notices['at_sink']} emails at the SMTP sink, {notices['unsent']} "
        f"not emailed and {notices['unnotified']} deliveries not notified after {notices['waited_s']:.0f} s; "
        f"{notices['per_second']:.0f} emails a second at the sink; release to last email of a wave: median "
        f"{median(to_last_email):.1f} s, max {max(to_last_email):.1f} s; "
        + "; ".join(
            f"{level} waves ({len(times)}): median {median(times):.1f} s, max {max(times):.1f} s"
            for level, times in sorted(timings["to_last_email_by_level"].items())
        )
    )
    generic = timings["to_last_email_by_level"].get("generic", [])
    print(
        summary_line(
            "punctuality",
            "lateness_p99_s",
            percentile(lateness, 0.99),
            percentile(polling, 0.99),
            lateness_median_s=round(median(lateness), 3),
            baseline_median_s=round(median(polling), 3),
            recorded_p99_s=round(percentile(recorded_lateness, 0.99), 3),
            pickup_p99_s=round(percentile(pickup, 0.99), 3),
            released_early=early,
            waves=len(lateness),
            interval_s=interval,
            emails=notices["at_sink"],
            not_emailed=notices["unsent"],
            last_email_median_s=round(median(to_last_email), 1),
            last_email_max_s=round(max(to_last_email), 1),
            generic_last_email_max_s=round(max(generic), 1) if generic else None,
            emails_per_s=round(notices["per_second"]),
            met=early == 0 and percentile(lateness, 0.99) < 2 and notices["unsent"] == 0 and max(to_last_email) <= 60,
        )
    )


def sink_counts(sink_log: Path) -> dict:
    """The emails the SMTP sink accepted, and how many a second from its first to its last."""
    lines = [line.split() for line in sink_log.read_text().splitlines() if line.strip()]
    at_sink = sum(int(fields[1]) for fields in lines)
    span = float(lines[-1][0]) - float(lines[0][0]) if len(lines) > 1 else 0.0
    return {"at_sink": at_sink, "per_second": at_sink / span if span else 0.0}


def main() -> None:
    arguments = parse_arguments()
    setup_django()
    import redis
    from django.utils import timezone

    from advisories.models import Delivery, Notice, ReleaseWave, WaveStatus

    redis.Redis.from_url(REDIS_URL).flushdb()
    # Nothing else may be due when the run starts: the benchmark's own waves only.
    assert not ReleaseWave.objects.filter(status=WaveStatus.SCHEDULED, scheduled_at__lte=timezone.now()).exists()
    sink_log = VAR_DIR / "punctuality-smtp-sink.txt"
    sink_log.write_text("")
    processes = start_pipeline(arguments.interval, sink_log)
    try:
        wave_ids, notices_waited_s = release_waves(arguments, processes)
        time.sleep(2 * arguments.interval)
    finally:
        stop(processes)
    redis.Redis.from_url(REDIS_URL).flushdb()

    notices = {
        "count": Notice.objects.filter(wave_id__in=wave_ids).count(),
        "unsent": Notice.objects.filter(wave_id__in=wave_ids, emailed_at__isnull=True).count(),
        "unnotified": Delivery.objects.filter(wave_id__in=wave_ids, notified_at__isnull=True).count(),
        **sink_counts(sink_log),
        "waited_s": notices_waited_s,
    }
    timings = wave_timings(wave_ids)
    if not timings["to_last_email"] or notices["at_sink"] == 0:
        raise SystemExit(2)  # nothing measured: no notice email reached the sink
    report(timings, notices, arguments.interval)


if __name__ == "__main__":
    main()
