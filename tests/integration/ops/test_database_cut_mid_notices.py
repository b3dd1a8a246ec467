"""The worker's database connection cut (pg_terminate_backend) while it emails a wave's notices through a real SMTP
server: the inbox notices were committed before the first email, the email in flight is not marked, and the task is
retried (database errors are transient) or the dispatcher sends the rest. Counted per recipient: none lost; at most
the one email accepted but not marked goes out twice."""

import psycopg
import pytest
from django.utils import timezone

from advisories.models import Notice
from core.levels import AccessLevel
from tests.factories import WaveFactory
from tests.integration.ops.conftest import (
    STARTUP_TIMEOUT_SECONDS,
    database_url_for_subprocesses,
    email_through_sink,
    emails_at,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PARTNERS = 4
MEMBERS_PER_PARTNER = 10
CUT_AFTER_EMAILS = 10


def cut_the_notice_transaction(session) -> bool:
    """Terminate the backend that holds a notice row locked while it waits for the SMTP server."""
    row = session.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
        "AND state = 'idle in transaction' AND query ILIKE '%advisories_notice%' LIMIT 1"
    ).fetchone()
    return bool(row and row[0])


def test_a_database_connection_cut_mid_notices_loses_no_email(processes, smtp_sink, make_partner, member_of, advisory):
    port, sink_log = smtp_sink
    members = [
        member_of(partner).email
        for partner in [make_partner(level=AccessLevel.EARLY) for _ in range(PARTNERS)]
        for _ in range(MEMBERS_PER_PARTNER)
    ]
    email_through_sink(processes, port, dispatch_grace_seconds=2)
    processes.worker("worker", "--pool", "solo")
    processes.beat()
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=timezone.now())
    wait_until(
        lambda: sum(emails_at(sink_log).values()) >= CUT_AFTER_EMAILS,
        timeout=STARTUP_TIMEOUT_SECONDS + 30,
        what=f"{CUT_AFTER_EMAILS} notice emails",
        processes=processes,
    )
    with psycopg.connect(database_url_for_subprocesses(), autocommit=True) as session:
        wait_until(lambda: cut_the_notice_transaction(session), timeout=20, what="a notice transaction to cut")
    assert sum(emails_at(sink_log).values()) < len(members), "the cut must land in the middle of the notices"

    wait_until(
        lambda: not Notice.objects.filter(emailed_at__isnull=True).exists(),
        timeout=90,
        what="the retry or the dispatcher to send the rest",
        processes=processes,
    )
    wait_until(lambda: set(emails_at(sink_log)) == set(members), timeout=10, what="the last email at the sink")

    counts = emails_at(sink_log)
    assert Notice.objects.count() == len(members)
    assert set(counts) == set(members)  # none lost
    assert sum(counts.values()) - len(members) <= 1, counts  # at most the one in flight twice
    assert processes.running["worker"].poll() is None
