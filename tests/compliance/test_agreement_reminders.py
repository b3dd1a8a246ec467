"""Beat reminds partner admins 30, 7 and 1 days before an agreement expires and notifies them at expiry, each
exactly once however often the task runs."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from compliance import notifications, services, tasks
from compliance.models import AgreementReminder, ReminderKind
from partners import services as partner_services
from partners.models import MemberRole
from tests.factories import AgreementFactory, AgreementReminderFactory, ContractVersionFactory, PartnerFactory

DAY = timedelta(days=1)


@pytest.fixture
def expiring(db, nda, member_of):
    """A partner whose NDA expires 40 days from now, with two admins and an analyst."""
    partner = PartnerFactory(legal_name="Kestrel Labs", assigned_level=1)
    for email, role in (("a1@kestrel.test", MemberRole.ADMIN), ("a2@kestrel.test", MemberRole.ADMIN)):
        member_of(partner, role=role, user__email=email)
    member_of(partner, role=MemberRole.ANALYST, user__email="analyst@kestrel.test")
    now = timezone.now()
    return AgreementFactory(
        partner=partner, contract_version=nda, signed_at=now - 300 * DAY, valid_until=now + 40 * DAY
    )


def _run_twice(at):
    return services.send_due_agreement_reminders(now=at) + services.send_due_agreement_reminders(now=at)


def test_no_reminder_is_due_before_thirty_days(expiring):
    assert _run_twice(expiring.valid_until - 30 * DAY - timedelta(seconds=1)) == 0
    assert mail.outbox == []


def test_thirty_day_reminder_goes_to_the_partner_admins_once_when_the_task_runs_twice(expiring):
    sent = _run_twice(expiring.valid_until - 30 * DAY)

    assert sent == 1
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == ["a1@kestrel.test", "a2@kestrel.test"]
    assert "expires on" in mail.outbox[0].subject
    reminder = AgreementReminder.objects.get()
    assert (reminder.agreement, reminder.kind) == (expiring, ReminderKind.THIRTY_DAYS)


def test_each_reminder_and_the_expiry_notice_go_out_once_each_over_the_agreements_last_month(expiring):
    moments = [
        expiring.valid_until - 30 * DAY,
        expiring.valid_until - 20 * DAY,
        expiring.valid_until - 7 * DAY,
        expiring.valid_until - 7 * DAY + timedelta(hours=3),
        expiring.valid_until - DAY,
        expiring.valid_until - timedelta(seconds=1),
        expiring.valid_until,
        expiring.valid_until + DAY,
    ]
    for moment in moments:
        _run_twice(moment)

    kinds = list(AgreementReminder.objects.order_by("sent_at").values_list("kind", flat=True))
    assert kinds == [ReminderKind.THIRTY_DAYS, ReminderKind.SEVEN_DAYS, ReminderKind.ONE_DAY, ReminderKind.EXPIRED]
    assert len(mail.outbox) == 4
    assert "expired on" in mail.outbox[-1].subject


def test_a_late_run_sends_only_the_most_urgent_reminder(expiring):
    _run_twice(expiring.valid_until - 5 * DAY)
    _run_twice(expiring.valid_until - 4 * DAY)

    assert list(AgreementReminder.objects.values_list("kind", flat=True)) == [ReminderKind.SEVEN_DAYS]
    assert len(mail.outbox) == 1


def test_the_celery_task_sends_a_due_reminder_once_when_run_twice(expiring, time_machine):
    time_machine.move_to(expiring.valid_until - 7 * DAY, tick=False)

    tasks.send_agreement_reminders.delay()
    tasks.send_agreement_reminders.delay()

    assert AgreementReminder.objects.filter(agreement=expiring).count() == 1
    assert len(mail.outbox) == 1


def test_a_renewed_agreement_gets_no_reminder(expiring, nda):
    AgreementFactory(
        partner=expiring.partner,
        contract_version=nda,
        signed_at=timezone.now(),
        valid_until=timezone.now() + 365 * DAY,
    )

    assert _run_twice(expiring.valid_until - 7 * DAY) == 0
    assert mail.outbox == []


def test_a_removed_organisation_gets_no_reminder(expiring, manager):
    partner_services.remove_partner(partner=expiring.partner, actor=manager, reason="Left the program.")

    assert _run_twice(expiring.valid_until - DAY) == 0


def test_an_expiry_long_past_gets_no_notice(expiring):
    assert _run_twice(expiring.valid_until + services.EXPIRY_NOTICE_WINDOW) == 0


def test_the_database_refuses_a_second_reminder_of_the_same_kind(expiring):
    AgreementReminderFactory(agreement=expiring, kind=ReminderKind.SEVEN_DAYS)

    with pytest.raises(IntegrityError, match="one_reminder_per_kind"), transaction.atomic():
        AgreementReminderFactory(agreement=expiring, kind=ReminderKind.SEVEN_DAYS)


def test_a_reminder_whose_email_fails_is_retried_by_the_next_run(expiring, monkeypatch):
    def broken_send_mail(*args, **kwargs):
        raise ConnectionError("SMTP server unreachable")

    monkeypatch.setattr(notifications, "send_mail", broken_send_mail)
    with pytest.raises(ConnectionError, match="SMTP server unreachable"):
        services.send_due_agreement_reminders(now=expiring.valid_until - DAY)
    assert not AgreementReminder.objects.exists()
    monkeypatch.undo()

    assert services.send_due_agreement_reminders(now=expiring.valid_until - DAY) == 1


def test_beat_runs_the_reminder_task():
    entry = settings.CELERY_BEAT_SCHEDULE["send-agreement-reminders"]

    assert entry["task"] == "compliance.tasks.send_agreement_reminders"
    assert entry["schedule"] <= timedelta(hours=1)


def test_a_new_version_with_a_re_sign_deadline_is_reminded_before_the_deadline(expiring, nda):
    now = timezone.now()
    deadline = now + 20 * DAY
    ContractVersionFactory(contract_key="nda", version=2, effective_at=now, previous_versions_valid_until=deadline)

    _run_twice(deadline - 7 * DAY)

    assert list(AgreementReminder.objects.values_list("kind", flat=True)) == [ReminderKind.SEVEN_DAYS]
    assert "must be re-signed by" in mail.outbox[0].subject


def test_signing_the_new_version_ends_the_reminders_about_the_old_one(expiring, nda):
    now = timezone.now()
    v2 = ContractVersionFactory(contract_key="nda", version=2, effective_at=now, previous_versions_valid_until=now)
    AgreementFactory(partner=expiring.partner, contract_version=v2, signed_at=now, valid_until=now + 365 * DAY)

    assert _run_twice(now + DAY) == 0
