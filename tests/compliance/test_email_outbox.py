"""The emails that follow a change (enforcement, invitations, second-factor changes...) go through the outbox: the
intent is written in the change's transaction, so a broker down at commit loses no email, a failing SMTP server is
retried, and each email is sent once. A row can only run a registered handler."""

from collections import Counter
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import OperationalError
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from compliance import services
from core import outbox, tasks
from core.models import OutboxMessage
from partners import services as partner_services
from partners.models import MemberRole
from tests.factories import PartnerDomainFactory


def later():
    return timezone.now() + timedelta(minutes=5)


@pytest.fixture
def broker_down():
    with mock.patch.object(tasks.run_outbox_message, "delay", side_effect=BrokerUnavailable("connection refused")):
        yield


def recipients() -> Counter:
    return Counter(address for message in mail.outbox for address in message.to)


@pytest.mark.django_db
def test_an_enforcement_notice_survives_a_broker_down_at_commit_and_is_sent_once(
    substantiated, compliance_officer, partner_admin, broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        action = services.issue_warning(violation=substantiated, actor=compliance_officer, reason="Shared too widely")

    assert action.pk is not None
    assert mail.outbox == []
    assert OutboxMessage.objects.get().done_at is None

    assert outbox.dispatch_outbox(now=later()) == {"done": 1, "failed": 0}
    assert outbox.dispatch_outbox(now=later()) == {"done": 0, "failed": 0}
    assert recipients() == Counter({partner_admin.email: 1})
    assert "Shared too widely" in mail.outbox[0].body


@pytest.mark.django_db
def test_an_invitation_survives_a_broker_down_at_commit_and_is_sent_once(
    partner, partner_admin, broker_down, django_capture_on_commit_callbacks
):
    PartnerDomainFactory(partner=partner, domain="kestrel.test")
    with django_capture_on_commit_callbacks(execute=True):
        partner_services.invite_member(
            partner=partner, actor=partner_admin, email="new@kestrel.test", role=MemberRole.ANALYST
        )
    assert mail.outbox == []

    outbox.dispatch_outbox(now=later())
    outbox.dispatch_outbox(now=later())

    assert recipients() == Counter({"new@kestrel.test": 1})
    assert "/invitations/" in mail.outbox[0].body


class SmtpDown(EmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP relay unreachable")


@pytest.mark.django_db
def test_a_failing_smtp_server_is_recorded_and_retried_until_it_answers(
    substantiated, compliance_officer, partner_admin, broker_down, django_capture_on_commit_callbacks, settings
):
    with django_capture_on_commit_callbacks(execute=True):
        services.issue_warning(violation=substantiated, actor=compliance_officer, reason="Shared too widely")
    settings.EMAIL_BACKEND = f"{__name__}.SmtpDown"

    assert outbox.dispatch_outbox(now=later()) == {"done": 0, "failed": 1}
    message = OutboxMessage.objects.get()
    assert (message.done_at, message.attempts) == (None, 1)
    assert "SMTP relay unreachable" in message.last_error

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbox.dispatch_outbox(now=later()) == {"done": 1, "failed": 0}
    assert recipients() == Counter({partner_admin.email: 1})


@pytest.mark.django_db
def test_a_message_that_failed_too_often_is_left_for_a_person_to_look_at(
    substantiated, compliance_officer, partner_admin, broker_down, django_capture_on_commit_callbacks, settings
):
    with django_capture_on_commit_callbacks(execute=True):
        services.issue_warning(violation=substantiated, actor=compliance_officer, reason="Shared too widely")
    OutboxMessage.objects.update(attempts=settings.OUTBOX_MAX_ATTEMPTS)

    assert outbox.dispatch_outbox(now=later()) == {"done": 0, "failed": 0}
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_row_naming_anything_but_a_registered_handler_runs_nothing():
    OutboxMessage.objects.create(
        handler="os.system", arguments={"command": "touch /tmp/pwned"}, created_at=timezone.now() - timedelta(hours=1)
    )

    assert outbox.dispatch_outbox() == {"done": 0, "failed": 1}
    assert OutboxMessage.objects.get().done_at is None
    with pytest.raises(ValueError, match="no outbox handler 'os.system'"):
        outbox.run_after_commit("os.system", command="id")


@pytest.mark.django_db
def test_the_task_retries_a_lost_database_connection(
    substantiated, compliance_officer, partner_admin, broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.issue_warning(violation=substantiated, actor=compliance_officer, reason="Shared too widely")
    failures = iter([OperationalError("server closed the connection unexpectedly")])
    real_handler = outbox.HANDLERS["compliance.enforcement_notice"]

    def fail_once(**arguments):
        for error in failures:
            raise error
        return real_handler(**arguments)

    with mock.patch.dict(outbox.HANDLERS, {"compliance.enforcement_notice": fail_once}):
        result = tasks.run_outbox_message.apply(args=[OutboxMessage.objects.get().pk], throw=False)

    assert result.successful()
    assert recipients() == Counter({partner_admin.email: 1})
