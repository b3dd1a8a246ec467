"""A worker killed (SIGKILL) while it emails a wave's notices, through a real (slow) SMTP server: inbox notices are
complete (they commit before any email), every email already accepted is marked, and the rest is sent by the next
worker or beat's notice dispatcher. Counted per recipient: none lost; at most the one email whose acceptance was not
yet marked goes out twice."""

import pytest
from django.utils import timezone

from advisories.models import Notice
from core.levels import AccessLevel
from tests.factories import WaveFactory
from tests.integration.ops.conftest import STARTUP_TIMEOUT_SECONDS, email_through_sink, emails_at, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PARTNERS = 4
MEMBERS_PER_PARTNER = 15
KILL_AFTER_EMAILS = 15


def test_a_worker_killed_mid_notices_loses_none_and_duplicates_at_most_the_one_in_flight(
    processes, smtp_sink, make_partner, member_of, advisory
):
    port, sink_log = smtp_sink
    members = [
        member_of(partner).email
        for partner in [make_partner(level=AccessLevel.EARLY) for _ in range(PARTNERS)]
        for _ in range(MEMBERS_PER_PARTNER)
    ]
    email_through_sink(processes, port, dispatch_grace_seconds=2)
    processes.worker("worker-1", "--pool", "solo")
    processes.beat()
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=timezone.now())
    wait_until(
        lambda: sum(emails_at(sink_log).values()) >= KILL_AFTER_EMAILS,
        timeout=STARTUP_TIMEOUT_SECONDS + 30,
        what=f"{KILL_AFTER_EMAILS} notice emails",
        processes=processes,
    )

    processes.kill("worker-1")
    sent_before_the_kill = sum(emails_at(sink_log).values())
    assert sent_before_the_kill < len(members), "the kill must land in the middle of the notices"
    # The inbox notices committed before the first email.
    assert Notice.objects.count() == len(members)

    processes.worker("worker-2", "--pool", "solo")
    wait_until(
        lambda: not Notice.objects.filter(emailed_at__isnull=True).exists(),
        timeout=90,
        what="the next worker or the dispatcher to send the rest",
        processes=processes,
    )
    wait_until(lambda: set(emails_at(sink_log)) == set(members), timeout=10, what="the last email to reach the sink")

    counts = emails_at(sink_log)
    assert set(counts) == set(members)  # none lost
    assert sum(counts.values()) - len(members) <= 1, counts  # at most the one in flight twice
