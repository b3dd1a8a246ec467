"""Reminders to receiving organisations that have not reported, a configurable time before the public release:
exactly once per organisation and advisory, however often the beat task runs."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from advisories import tasks
from advisories.models import NoticePreference, ProtectionReminder
from advisories.protection import services
from compliance.entitlements import partner_access
from core.models import AuditEvent
from tests.advisories.protection.conftest import release
from tests.factories import AdvisoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def soon(make_partner, member_of):
    """An advisory public in 72 hours, released to Silent Org (two members, one of them wanting no email) and Busy
    Org (which reports in progress); Late Org joins afterwards and receives nothing."""
    advisory = AdvisoryFactory(public_release_at=timezone.now() + timedelta(hours=72))
    silent, busy = make_partner(legal_name="Silent Org"), make_partner(legal_name="Busy Org")
    silent_users = [member_of(silent), member_of(silent)]
    NoticePreference.objects.create(user=silent_users[1], email_mode="none")
    busy_user = member_of(busy)
    release(advisory)
    member_of(make_partner(legal_name="Late Org"))
    services.report_protection_status(access=partner_access(busy_user), advisory=advisory, state="in_progress")
    mail.outbox.clear()
    return advisory, silent, silent_users


def at_hours_before_release(advisory, hours):
    return time_machine.travel(advisory.public_release_at - timedelta(hours=hours), tick=False)


def test_default_lead_time_is_48_hours_and_a_beat_entry_runs_the_task():
    assert settings.FOREWARN_PROTECTION_REMINDER_HOURS == 48
    assert any(
        entry["task"] == "advisories.tasks.send_protection_reminders"
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
    )


def test_no_reminder_is_sent_before_the_lead_time(soon):
    advisory, _, _ = soon

    with at_hours_before_release(advisory, 49):
        tasks.send_protection_reminders()

    assert not ProtectionReminder.objects.exists()
    assert mail.outbox == []


def test_reminder_goes_once_to_organisations_that_have_not_reported_when_the_task_runs_twice(soon):
    advisory, silent, silent_users = soon

    with at_hours_before_release(advisory, 47):
        tasks.send_protection_reminders()
        tasks.send_protection_reminders()
    with at_hours_before_release(advisory, 2):
        tasks.send_protection_reminders()

    reminder = ProtectionReminder.objects.get()
    assert (reminder.advisory, reminder.partner, reminder.recipients) == (advisory, silent, 1)
    assert [message.to for message in mail.outbox] == [[silent_users[0].email]]
    assert advisory.identifier in mail.outbox[0].subject
    assert f"/portal/advisories/{advisory.identifier}/protection/" in mail.outbox[0].body
    assert AuditEvent.objects.filter(action="protection.reminder_sent").count() == 1


def test_no_reminder_is_sent_after_the_public_release(soon):
    advisory, _, _ = soon

    with time_machine.travel(advisory.public_release_at + timedelta(minutes=1), tick=False):
        tasks.send_protection_reminders()

    assert not ProtectionReminder.objects.exists()


def test_lead_time_follows_the_setting(soon, settings):
    advisory, silent, _ = soon
    settings.FOREWARN_PROTECTION_REMINDER_HOURS = 80

    tasks.send_protection_reminders()

    assert list(ProtectionReminder.objects.values_list("partner", flat=True)) == [silent.pk]


def test_organisation_that_reported_in_the_meantime_is_not_reminded(soon):
    advisory, silent, silent_users = soon
    services.report_protection_status(access=partner_access(silent_users[0]), advisory=advisory, state="not_applicable")

    with at_hours_before_release(advisory, 47):
        tasks.send_protection_reminders()

    assert not ProtectionReminder.objects.exists()
    assert mail.outbox == []


def test_reminder_rows_are_unique_per_organisation_and_advisory(soon):
    advisory, silent, _ = soon
    ProtectionReminder.objects.create(advisory=advisory, partner=silent, created_at=timezone.now())

    with pytest.raises(IntegrityError, match="one_protection_reminder_per_partner"), transaction.atomic():
        ProtectionReminder.objects.create(advisory=advisory, partner=silent, created_at=timezone.now())
