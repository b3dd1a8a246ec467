"""Reminders before public release: organisations that received an advisory and have not reported a protection
status are emailed once, a lead time before the advisory becomes public."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils import timezone

from advisories.access import partners_holding
from advisories.models import Advisory, AdvisoryStatus, EmailMode, ProtectionReminder, ProtectionState, ProtectionStatus
from advisories.notifications import protection_reminder_email
from core.services import record_audit_event
from partners.models import PartnerMembership


def reminder_lead_time() -> timedelta:
    return timedelta(hours=settings.FOREWARN_PROTECTION_REMINDER_HOURS)


def queue_protection_reminders(*, now: datetime) -> int:
    """One reminder row per advisory whose public release falls within the lead time and per receiving
    organisation (still entitled) that has not reported a status yet. Existing rows are kept (database
    constraint): an organisation is reminded once per advisory."""
    advisories = Advisory.objects.filter(
        status__in=[AdvisoryStatus.SCHEDULED, AdvisoryStatus.RELEASED],
        public_release_at__gt=now,
        public_release_at__lte=now + reminder_lead_time(),
        deliveries__isnull=False,
    ).distinct()
    reminders = []
    for advisory in advisories:
        reported = set(
            ProtectionStatus.objects.filter(advisory=advisory)
            .exclude(state=ProtectionState.NOT_STARTED)
            .values_list("partner_id", flat=True)
        )
        reminded = set(ProtectionReminder.objects.filter(advisory=advisory).values_list("partner_id", flat=True))
        reminders += [
            ProtectionReminder(advisory=advisory, partner_id=partner_id, created_at=now)
            for partner_id in partners_holding(advisory, now)
            if partner_id not in reported and partner_id not in reminded
        ]
    ProtectionReminder.objects.bulk_create(reminders, ignore_conflicts=True)
    return len(reminders)


def _reminder_message(reminder: ProtectionReminder, email: str):
    subject, body = protection_reminder_email(reminder)
    return (subject, body, settings.DEFAULT_FROM_EMAIL, [email])


def send_protection_reminders(*, now: datetime | None = None) -> int:
    """Queue the reminders that are due, then send every queued one not sent yet to the organisation's active
    members (except those who asked for no email), exactly once: rows are locked (`skip_locked`, so concurrent
    runs share the work) and marked sent in the same transaction. Returns the number of emails sent."""
    now = now or timezone.now()
    queue_protection_reminders(now=now)
    with transaction.atomic():
        reminders = list(
            ProtectionReminder.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("advisory", "partner")
            .filter(sent_at__isnull=True)
        )
        if not reminders:
            return 0
        emails: dict[int, list[str]] = {}
        for partner_id, email in (
            PartnerMembership.objects.filter(
                partner_id__in={r.partner_id for r in reminders}, is_active=True, user__is_active=True
            )
            .exclude(user__notice_preference__email_mode=EmailMode.NONE)
            .values_list("partner_id", "user__email")
        ):
            emails.setdefault(partner_id, []).append(email)
        messages = []
        for reminder in reminders:
            recipients = emails.get(reminder.partner_id, [])
            messages += [_reminder_message(reminder, email) for email in recipients]
            reminder.sent_at, reminder.recipients = now, len(recipients)
            reminder.save(update_fields=["sent_at", "recipients"])
            record_audit_event(
                actor=None,
                action="protection.reminder_sent",
                target=reminder.advisory,
                details={"partner": reminder.partner_id, "recipients": len(recipients)},
            )
        send_mass_mail(messages, fail_silently=False)
    return len(messages)
