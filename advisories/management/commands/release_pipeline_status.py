"""Monitoring: is the release pipeline (beat -> broker -> worker -> release_due_waves) keeping up?"""

import json
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import timezone

from advisories.selectors import due_unreleased_waves, overdue_notices
from advisories.tasks import RELEASE_HEARTBEAT, release_due_waves
from core.clock import clock_skew_seconds
from core.health import broker_queue_depth
from core.selectors import heartbeat_clock_skew, last_heartbeat, pending_outbox_messages, skipped_ticks

DEFAULT_MAX_DELAY_SECONDS = 60
CRITICAL_EXIT_CODE = 2


def _pipeline_state(*, now, limit) -> dict:
    """What the database says about the pipeline: the last tick, the due waves, the notice backlog older than
    `limit`, the skipped ticks (last hour, and since `limit`) and the clocks' skew. Raises DatabaseError."""
    return {
        "last_tick": last_heartbeat(RELEASE_HEARTBEAT),
        "due": [
            {
                "wave": wave.pk,
                "advisory": wave.advisory.identifier,
                "level": wave.get_level_display(),
                "scheduled_at": wave.scheduled_at,
            }
            for wave in due_unreleased_waves(now=now)
        ],
        "backlog": {
            **overdue_notices(older_than=limit),
            "outbox_messages_pending": pending_outbox_messages(older_than=limit),
        },
        "skipped": skipped_ticks(release_due_waves.name, since=now - timedelta(hours=1)),
        "skipped_lately": skipped_ticks(release_due_waves.name, since=limit),
        "skews": {"this node": clock_skew_seconds(), "release worker": heartbeat_clock_skew(RELEASE_HEARTBEAT)},
    }


def _pipeline_problems(state: dict, *, limit, max_delay: int) -> list[str]:
    """The problems the pipeline's state shows, in words."""
    problems = []
    last_tick, backlog = state["last_tick"], state["backlog"]
    if last_tick is None or last_tick < limit:
        problems.append(f"no release tick within the last {max_delay} s: are beat and a worker running?")
    overdue = [wave for wave in state["due"] if wave["scheduled_at"] < limit]
    if overdue:
        problems.append(f"{len(overdue)} wave(s) due for more than {max_delay} s are not released")
    for node, skew in state["skews"].items():
        if skew is not None and abs(skew) > settings.FOREWARN_MAX_CLOCK_SKEW_SECONDS:
            problems.append(f"{node}'s clock is {skew:+.3f} s off the database's")
    if state["skipped_lately"]:
        problems.append(
            f"{state['skipped_lately']} release tick(s) expired unrun in the last {max_delay} s: "
            "is the release worker busy or down?"
        )
    if any(backlog.values()):
        problems.append(
            f"{backlog['deliveries_not_notified']} delivery(ies) not notified, "
            f"{backlog['notices_not_emailed']} notice(s) not emailed and "
            f"{backlog['outbox_messages_pending']} outbox email(s) not sent for more than {max_delay} s"
        )
    return problems


class Command(BaseCommand):
    help = (
        "Report the last release tick, the due waves not yet released, the notices not yet sent and the broker queue "
        f"depth. Exits with status {CRITICAL_EXIT_CODE} when a due wave, an unsent notice or the last tick is older "
        "than --max-delay seconds, or when the database or the broker does not answer."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--max-delay",
            type=int,
            default=DEFAULT_MAX_DELAY_SECONDS,
            help=f"seconds a due wave may wait, and the tick may be silent (default {DEFAULT_MAX_DELAY_SECONDS})",
        )
        parser.add_argument("--json", action="store_true", dest="as_json", help="print one JSON object, not text")

    def handle(self, *args, max_delay: int, as_json: bool, **options):
        now = timezone.now()
        limit = now - timedelta(seconds=max_delay)
        problems = []
        try:
            state = _pipeline_state(now=now, limit=limit)
        except DatabaseError as error:
            # Monitoring must get a verdict, not a traceback: the database being down is the worst problem of all.
            state = {"last_tick": None, "due": [], "backlog": None, "skipped": None, "skews": {}}
            problems.append(f"the database does not answer: {error}".strip())
        else:
            problems += _pipeline_problems(state, limit=limit, max_delay=max_delay)
        queues = [settings.CELERY_RELEASE_QUEUE, settings.CELERY_TASK_DEFAULT_QUEUE]
        try:
            depths = {queue: broker_queue_depth(queue) for queue in queues}
        except Exception as error:
            depths = dict.fromkeys(queues)
            problems.append(f"the broker does not answer: {error}")

        last_tick = state["last_tick"]
        report = {
            "status": "critical" if problems else "ok",
            "checked_at": now.isoformat(),
            "last_tick_at": last_tick.isoformat() if last_tick else None,
            "last_tick_age_seconds": round((now - last_tick).total_seconds(), 1) if last_tick else None,
            "due_waves": [{**wave, "scheduled_at": wave["scheduled_at"].isoformat()} for wave in state["due"]],
            "skipped_ticks_last_hour": state["skipped"],
            "clock_skew_seconds": state["skews"],
            "overdue_notices": state["backlog"],
            "queue_depths": depths,
            "problems": problems,
        }
        self.stdout.write(json.dumps(report) if as_json else self._as_text(report))
        if problems:
            raise CommandError("; ".join(problems), returncode=CRITICAL_EXIT_CODE)

    @staticmethod
    def _as_text(report: dict) -> str:
        if report["last_tick_at"]:
            tick = f"{report['last_tick_at']} ({report['last_tick_age_seconds']} s ago)"
        else:
            tick = "never"
        lines = [f"last release tick: {tick}", f"due waves not yet released: {len(report['due_waves'])}"]
        for node, skew in report["clock_skew_seconds"].items():
            lines.append(f"clock skew against the database ({node}): {'n/a' if skew is None else f'{skew:+.3f} s'}")
        if report["skipped_ticks_last_hour"] is not None:
            lines.append(f"release ticks skipped in the last hour: {report['skipped_ticks_last_hour']}")
        lines += [
            f"  {wave['advisory']} {wave['level']} wave, due {wave['scheduled_at']}" for wave in report["due_waves"]
        ]
        if report["overdue_notices"] is not None:
            backlog = report["overdue_notices"]
            lines.append(
                f"overdue notices: {backlog['deliveries_not_notified']} delivery(ies) not notified, "
                f"{backlog['notices_not_emailed']} notice(s) not emailed, "
                f"{backlog['outbox_messages_pending']} outbox email(s) not sent"
            )
        for queue, depth in report["queue_depths"].items():
            lines.append(f"queue depth ({queue}): {'n/a (broker is not Redis)' if depth is None else depth}")
        lines.append(f"status: {report['status'].upper()}")
        return "\n".join(lines)
