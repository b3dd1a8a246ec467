"""Reminders to sign again: before an agreement stops counting (it expires, or a newer version's re-sign deadline
passes) and once it has."""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from compliance import notifications
from compliance.entitlements import SignedAgreement, counts_until
from compliance.models import Agreement, AgreementReminder, ContractVersion, ReminderKind
from core.services import record_audit_event
from partners.models import PartnerStatus
from partners.selectors import admin_emails

# A notice is still sent this long after an agreement stopped counting (beat was down), never for older ones.
EXPIRY_NOTICE_WINDOW = timedelta(days=7)
LONGEST_REMINDER_LEAD = timedelta(days=max(ReminderKind.values))


def due_reminder_kind(*, ends_at: datetime, at: datetime) -> ReminderKind | None:
    """The most urgent reminder whose time has come at `at` for an agreement that stops counting at `ends_at`."""
    due = [kind for kind in ReminderKind if ends_at - timedelta(days=kind.value) <= at]
    return min(due) if due else None


def _agreements_ending_soon(at: datetime) -> list[tuple[int, datetime]]:
    """(agreement id, when it stops counting) for the agreements of organisations not removed that stop counting
    within the longest reminder lead, or stopped recently, and were not renewed; soonest first. An agreement stops
    counting when it expires or, once a newer version of its contract is published, at the re-sign deadline."""
    newest: dict[str, ContractVersion] = {}
    for version in ContractVersion.objects.all():
        if version.contract_key not in newest or version.version > newest[version.contract_key].version:
            newest[version.contract_key] = version
    renewed = Agreement.objects.filter(
        partner=OuterRef("partner"),
        contract_version__contract_key=OuterRef("contract_version__contract_key"),
        valid_until__gt=OuterRef("valid_until"),
    )
    ending = []
    for row in (
        Agreement.objects.filter(
            valid_until__gt=at - EXPIRY_NOTICE_WINDOW,
            partner__status__in=[PartnerStatus.ACTIVE, PartnerStatus.SUSPENDED],
        )
        .exclude(Exists(renewed))
        .values("pk", "contract_version__contract_key", "contract_version__version", "signed_at", "valid_until")
    ):
        signed = SignedAgreement(
            contract_key=row["contract_version__contract_key"],
            version=row["contract_version__version"],
            signed_at=row["signed_at"],
            valid_until=row["valid_until"],
            agreement_id=row["pk"],
        )
        ends_at = counts_until(agreement=signed, newest=newest[signed.contract_key])
        if at - EXPIRY_NOTICE_WINDOW < ends_at <= at + LONGEST_REMINDER_LEAD:
            ending.append((row["pk"], ends_at))
    return sorted(ending, key=lambda item: item[1])


def send_due_agreement_reminders(*, now: datetime | None = None) -> int:
    """Email each organisation's partner admins 30, 7 and 1 days before one of its agreements stops counting
    (expiry, or the re-sign deadline of a newer version) and when it has stopped, each reminder at most once per
    agreement (a row per reminder, unique per agreement and kind). Only the most urgent due reminder goes out (a
    late run does not send a stale 30-day one after the 7-day one). Agreements already renewed, and organisations
    removed, get none. Returns the number of reminders sent."""
    at = now or timezone.now()
    sent = 0
    for agreement_id, ends_at in _agreements_ending_soon(at):
        kind = due_reminder_kind(ends_at=ends_at, at=at)
        if kind is None:
            continue
        with transaction.atomic():
            agreement = (
                Agreement.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("partner", "contract_version")
                .filter(pk=agreement_id)
                .first()
            )
            if agreement is None or agreement.reminders.filter(kind__lte=kind).exists():
                continue  # a concurrent run holds it, or this reminder (or a more urgent one) went out already
            recipients = admin_emails(agreement.partner_id)
            try:
                with transaction.atomic():
                    reminder = AgreementReminder.objects.create(
                        agreement=agreement, kind=kind, sent_at=at, recipients=recipients
                    )
            except IntegrityError:  # sent by a concurrent run in the meantime
                continue
            record_audit_event(
                actor=None,
                action="agreement.reminder_sent",
                target=agreement,
                details={"kind": reminder.get_kind_display(), "ends_at": ends_at, "recipients": recipients},
            )
            if recipients:
                # Sent inside the transaction: if sending fails, the row rolls back and the next run retries.
                notifications.send_agreement_reminder(
                    agreement=agreement, kind=kind, ends_at=ends_at, recipients=recipients
                )
            sent += 1
    return sent
