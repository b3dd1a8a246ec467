"""A release (or an invitation) that commits while the broker is down hands no task to Redis; the deliveries and
the outbox rows are the pending work, so a real beat and worker started afterwards find them: every member gets one
inbox notice and one email, the invitee one invitation, no more, however many dispatcher ticks pass."""

import re
import time
from collections import Counter
from unittest import mock

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from advisories import services, tasks
from advisories.models import Delivery, Notice
from core import tasks as core_tasks
from core.levels import AccessLevel
from core.models import OutboxMessage
from partners import services as partner_services
from partners.models import MemberRole
from tests.factories import PartnerDomainFactory, WaveFactory
from tests.integration.ops.conftest import STARTUP_TIMEOUT_SECONDS, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PARTNERS = 5
MEMBERS_PER_PARTNER = 3
DISPATCHER_TICKS_AFTER = 3
# The console email backend writes each message to the worker's log, headers first.
RECIPIENT = re.compile(r"^To: (\S+)$", re.MULTILINE)


def emails_in(log: str) -> Counter:
    return Counter(RECIPIENT.findall(log))


def test_notices_of_a_release_committed_with_the_broker_down_reach_every_member_once(
    processes, make_partner, member_of, advisory
):
    members = [
        member_of(partner).email
        for partner in [make_partner(level=AccessLevel.EARLY) for _ in range(PARTNERS)]
        for _ in range(MEMBERS_PER_PARTNER)
    ]
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=timezone.now())
    with mock.patch.object(tasks.send_release_notices, "delay", side_effect=BrokerUnavailable("connection refused")):
        services.release_due_waves()
    assert Delivery.objects.filter(notified_at__isnull=True).count() == PARTNERS
    assert not Notice.objects.exists()

    processes.environment["FOREWARN_NOTICE_DISPATCH_SECONDS"] = "1"
    processes.environment["FOREWARN_NOTICE_DISPATCH_GRACE_SECONDS"] = "0"
    processes.worker("worker", "--pool", "solo")
    processes.beat()
    wait_until(
        lambda: not Notice.objects.filter(emailed_at__isnull=True).exists() and Notice.objects.exists(),
        timeout=STARTUP_TIMEOUT_SECONDS + 30,
        what="the dispatcher to notify and email every member",
        processes=processes,
    )
    dispatched = processes.log("worker").count("advisories.tasks.dispatch_pending_notices")
    wait_until(
        lambda: (
            processes.log("worker").count("advisories.tasks.dispatch_pending_notices")
            >= dispatched + 2 * DISPATCHER_TICKS_AFTER
        ),
        timeout=30,
        what="more dispatcher ticks",
        processes=processes,
    )
    time.sleep(0.5)  # the last tick's log lines

    assert emails_in(processes.log("worker")) == Counter(dict.fromkeys(members, 1))
    assert Counter(Notice.objects.values_list("user__email", flat=True)) == Counter(dict.fromkeys(members, 1))
    assert not Delivery.objects.filter(notified_at__isnull=True).exists()


def test_an_invitation_committed_with_the_broker_down_is_sent_once_by_the_outbox_dispatcher(
    processes, make_partner, member_of
):
    partner = make_partner(level=AccessLevel.EARLY)
    PartnerDomainFactory(partner=partner, domain="kestrel.test")
    admin = member_of(partner, role=MemberRole.ADMIN)
    with mock.patch.object(core_tasks.run_outbox_message, "delay", side_effect=BrokerUnavailable("connection refused")):
        partner_services.invite_member(partner=partner, actor=admin, email="new@kestrel.test", role=MemberRole.ANALYST)
    assert OutboxMessage.objects.filter(done_at=None).count() == 1

    processes.environment["FOREWARN_OUTBOX_DISPATCH_SECONDS"] = "1"
    processes.environment["FOREWARN_OUTBOX_DISPATCH_GRACE_SECONDS"] = "0"
    processes.worker("worker", "--pool", "solo")
    processes.beat()
    wait_until(
        lambda: not OutboxMessage.objects.filter(done_at=None).exists(),
        timeout=STARTUP_TIMEOUT_SECONDS + 30,
        what="the outbox dispatcher to send the invitation",
        processes=processes,
    )
    dispatched = processes.log("worker").count("core.tasks.dispatch_outbox")
    wait_until(
        lambda: processes.log("worker").count("core.tasks.dispatch_outbox") >= dispatched + 2 * DISPATCHER_TICKS_AFTER,
        timeout=30,
        what="more dispatcher ticks",
        processes=processes,
    )
    time.sleep(0.5)

    assert emails_in(processes.log("worker")) == Counter({"new@kestrel.test": 1})
