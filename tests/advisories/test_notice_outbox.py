"""The notice outbox: a delivery not yet notified and a notice not yet emailed are the pending work, so a broker
down at commit, a database error in the notice transaction, an SMTP server failing part-way or a crash between
send and mark loses no notice and duplicates no email (except the one documented window: a crash after the SMTP
server accepted a message and before its mark committed)."""

from collections import Counter
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from advisories import services, tasks
from advisories.models import Delivery, Notice, NoticePreference
from advisories.services import notices as notice_services
from core.levels import AccessLevel
from tests.factories import WaveFactory
from tests.integration.subprocesses import unavailable

PARTNERS = 3
MEMBERS_PER_PARTNER = 2


@pytest.fixture
def members(make_partner, member_of):
    """Every member of PARTNERS early-level organisations (all want immediate email, the default)."""
    return [
        member_of(partner)
        for partner in [make_partner(level=AccessLevel.EARLY) for _ in range(PARTNERS)]
        for _ in range(MEMBERS_PER_PARTNER)
    ]


def emails_per_recipient() -> Counter:
    return Counter(address for message in mail.outbox for address in message.to)


def everyone_once(members) -> Counter:
    return Counter({member.email: 1 for member in members})


def release_with_broker_down(advisory, django_capture_on_commit_callbacks):
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=timezone.now())
    with (
        mock.patch.object(tasks.send_release_notices, "delay", side_effect=BrokerUnavailable("connection refused")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.release_due_waves()


def after_grace():
    return timezone.now() + timedelta(minutes=5)


@pytest.mark.django_db
def test_a_release_commits_when_the_broker_is_down_and_its_notices_wait_in_the_outbox(
    advisory, members, django_capture_on_commit_callbacks
):
    release_with_broker_down(advisory, django_capture_on_commit_callbacks)

    assert Delivery.objects.count() == PARTNERS
    assert not Delivery.objects.filter(notified_at__isnull=False).exists()
    assert not Notice.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db
def test_the_dispatcher_sends_what_the_broker_never_received_once_per_member(
    advisory, members, django_capture_on_commit_callbacks
):
    release_with_broker_down(advisory, django_capture_on_commit_callbacks)

    result = services.dispatch_pending_notices(now=after_grace())

    assert result == {"deliveries": PARTNERS, "emails": PARTNERS * MEMBERS_PER_PARTNER}
    assert Notice.objects.count() == PARTNERS * MEMBERS_PER_PARTNER
    assert emails_per_recipient() == everyone_once(members)
    assert services.dispatch_pending_notices(now=after_grace()) == {"deliveries": 0, "emails": 0}
    assert emails_per_recipient() == everyone_once(members)


@pytest.mark.django_db
def test_the_dispatcher_leaves_fresh_work_to_its_own_task_and_stale_work_to_monitoring(
    advisory, members, django_capture_on_commit_callbacks
):
    release_with_broker_down(advisory, django_capture_on_commit_callbacks)

    assert services.dispatch_pending_notices() == {"deliveries": 0, "emails": 0}
    with (
        pytest.raises(CommandError, match=r"3 delivery\(ies\) not notified"),
        time_machine.travel(timezone.now() + timedelta(days=3)),
    ):
        call_command("release_pipeline_status", "--max-delay", "60")
    assert services.dispatch_pending_notices(now=timezone.now() + timedelta(days=3)) == {"deliveries": 0, "emails": 0}
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_database_error_in_the_notice_transaction_sends_no_email_and_the_retry_sends_each_once(
    advisory, members, django_capture_on_commit_callbacks
):
    release_with_broker_down(advisory, django_capture_on_commit_callbacks)
    delivery_ids = list(Delivery.objects.values_list("pk", flat=True))

    with (
        mock.patch(
            "advisories.services.notices.queue_delivery_events", side_effect=OperationalError("connection lost")
        ),
        pytest.raises(OperationalError, match="connection lost"),
    ):
        services.send_release_notices(delivery_ids=delivery_ids)
    assert mail.outbox == []
    assert not Notice.objects.exists()
    assert not Delivery.objects.filter(notified_at__isnull=False).exists()

    services.send_release_notices(delivery_ids=delivery_ids)
    assert emails_per_recipient() == everyone_once(members)


class SmtpFailingAfter(EmailBackend):
    """The local test outbox, with an SMTP server that refuses every message after the first `accepted`."""

    accepted = 0

    def send_messages(self, messages):
        if len(mail.outbox) >= self.accepted:
            raise ConnectionResetError("SMTP server went away")
        return super().send_messages(messages)


@pytest.mark.django_db
def test_smtp_failing_part_way_keeps_what_was_sent_and_the_retry_sends_only_the_rest(
    advisory, members, django_capture_on_commit_callbacks, settings
):
    release_with_broker_down(advisory, django_capture_on_commit_callbacks)
    delivery_ids = list(Delivery.objects.values_list("pk", flat=True))
    settings.EMAIL_BACKEND = f"{__name__}.SmtpFailingAfter"
    SmtpFailingAfter.accepted = 2

    with pytest.raises(ConnectionResetError, match="SMTP server went away"):
        services.send_release_notices(delivery_ids=delivery_ids)
    assert len(mail.outbox) == 2
    assert Notice.objects.filter(emailed_at__isnull=False).count() == 2
    # The inbox is complete even though email is not.
    assert Notice.objects.count() == PARTNERS * MEMBERS_PER_PARTNER

    SmtpFailingAfter.accepted = len(members)
    assert services.dispatch_pending_notices(now=after_grace()) == {"deliveries": 0, "emails": len(members) - 2}
    assert emails_per_recipient() == everyone_once(members)


@pytest.mark.django_db
def test_the_notice_task_retries_a_database_error_as_it_retries_smtp(
    advisory, members, django_capture_on_commit_callbacks
):
    release_with_broker_down(advisory, django_capture_on_commit_callbacks)
    delivery_ids = list(Delivery.objects.values_list("pk", flat=True))
    failures = iter([OperationalError("server closed the connection unexpectedly")])
    real_queue_delivery_events = notice_services.queue_delivery_events

    def fail_once(ids):
        for error in failures:
            raise error
        return real_queue_delivery_events(ids)

    with mock.patch("advisories.services.notices.queue_delivery_events", side_effect=fail_once):
        result = tasks.send_release_notices.apply(args=[delivery_ids], throw=False)

    assert result.successful()

    assert emails_per_recipient() == everyone_once(members)


@pytest.mark.django_db
def test_a_crash_between_smtp_accept_and_mark_resends_that_one_email_only(
    advisory, members, django_capture_on_commit_callbacks
):
    release_with_broker_down(advisory, django_capture_on_commit_callbacks)
    services.dispatch_pending_notices(now=after_grace())
    Notice.objects.update(emailed_at=None)
    mail.outbox.clear()
    crashing_after = 3
    real_update = Notice.objects.filter

    def crash_on_mark(*args, **kwargs):
        if len(mail.outbox) == crashing_after and "pk" in kwargs:
            raise OperationalError("worker's connection killed")
        return real_update(*args, **kwargs)

    with (
        mock.patch.object(Notice.objects, "filter", side_effect=crash_on_mark),
        pytest.raises(OperationalError, match="connection killed"),
    ):
        services.email_notices(notice_ids=list(Notice.objects.values_list("pk", flat=True)))
    services.dispatch_pending_notices(now=after_grace())

    counts = emails_per_recipient()
    assert sorted(counts.values()) == [1] * (len(members) - 1) + [2]
    assert set(counts) == {member.email for member in members}


@pytest.mark.django_db
def test_digest_readers_are_not_emailed_by_the_dispatcher(advisory, members, django_capture_on_commit_callbacks):
    digest_reader = members[0]
    NoticePreference.objects.create(user=digest_reader, email_mode="daily")
    release_with_broker_down(advisory, django_capture_on_commit_callbacks)

    services.dispatch_pending_notices(now=after_grace())

    assert digest_reader.email not in emails_per_recipient()
    assert Notice.objects.filter(user=digest_reader, emailed_at__isnull=True).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("synchronous", [False, True])
def test_each_mark_waits_for_the_disk_only_when_configured_to(
    advisory, members, django_capture_on_commit_callbacks, settings, synchronous
):
    if connection.vendor != "postgresql":
        unavailable("synchronous_commit is PostgreSQL's: set DATABASE_URL to a PostgreSQL database")
    settings.NOTICE_EMAIL_SYNCHRONOUS_COMMIT = synchronous
    release_with_broker_down(advisory, django_capture_on_commit_callbacks)
    with CaptureQueriesContext(connection) as queries:
        services.dispatch_pending_notices(now=after_grace())

    statements = [query["sql"] for query in queries.captured_queries]
    asynchronous_marks = statements.count("SET LOCAL synchronous_commit TO OFF")
    assert asynchronous_marks == (0 if synchronous else len(members))
    assert emails_per_recipient() == everyone_once(members)
