"""Emails of the compliance layer, all to an organisation's active partner admins: agreement reminders, warnings
and level caps, appeal decisions, and level changes by a jurisdiction policy. Links by `reverse()` on
FOREWARN_PORTAL_URL."""

from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from compliance.models import Agreement, Appeal, EnforcementAction, EnforcementKind, PolicyLevelChange, ReminderKind
from core.outbox import outbox_handler, run_after_commit
from partners.selectors import admin_emails


def portal_url(name: str) -> str:
    """The absolute address of a page of the portal."""
    return settings.FOREWARN_PORTAL_URL + reverse(name)


def _send(subject: str, template: str, context: dict, recipients: list[str]) -> None:
    body = render_to_string(f"emails/compliance/{template}", context)
    send_mail(f"[Forewarn] {subject}", body, settings.DEFAULT_FROM_EMAIL, recipients)


def send_agreement_reminder(
    *, agreement: Agreement, kind: ReminderKind, ends_at: datetime, recipients: list[str]
) -> None:
    """Email a reminder (or, for `EXPIRED`, the notice) that an agreement stops counting at `ends_at`: it expires,
    or a newer version replaces it at the re-sign deadline. Sent at once; the caller's transaction records it."""
    ended = kind == ReminderKind.EXPIRED
    superseded = ends_at < agreement.valid_until
    when = f"{ends_at:%Y-%m-%d %H:%M} UTC"
    if superseded:
        deadline = f"stopped counting on {when}" if ended else f"must be re-signed by {when}"
    else:
        deadline = f"expired on {when}" if ended else f"expires on {when}"
    context = {
        "agreement": agreement,
        "deadline": deadline,
        "ended": ended,
        "superseded": superseded,
        "agreements_url": portal_url("compliance:partner_agreements"),
    }
    subject = f"{agreement.partner}: your {agreement.contract_version.title} {deadline}"
    _send(subject, "agreement_reminder.txt", context, recipients)


def queue_enforcement_notice(*, action_id: int) -> None:
    run_after_commit("compliance.enforcement_notice", action_id=action_id)


@outbox_handler("compliance.enforcement_notice")
def send_enforcement_notice(*, action_id: int) -> int:
    """Email the organisation's active admins about a warning or a level cap, with the reason."""
    action = EnforcementAction.objects.select_related("partner").get(pk=action_id)
    recipients = admin_emails(action.partner_id)
    if not recipients:
        return 0
    capped = action.kind == EnforcementKind.LEVEL_CAP
    if capped:
        headline = f"{action.partner}: access capped at {action.get_cap_level_display()} by the Forewarn program"
    else:
        headline = f"{action.partner}: formal warning from the Forewarn program"
    context = {
        "headline": headline,
        "action": action,
        "capped": capped,
        "appeals_url": portal_url("compliance:partner_appeals"),
    }
    _send(headline, "enforcement_notice.txt", context, recipients)
    return len(recipients)


def queue_appeal_decision(*, appeal_id: int) -> None:
    run_after_commit("compliance.appeal_decision", appeal_id=appeal_id)


@outbox_handler("compliance.appeal_decision")
def send_appeal_decision(*, appeal_id: int) -> int:
    """Email the organisation's active admins the decision on its appeal."""
    appeal = Appeal.objects.select_related("action__partner").get(pk=appeal_id)
    partner = appeal.action.partner
    recipients = admin_emails(partner.pk)
    if not recipients:
        return 0
    headline = f"{partner}: your appeal against the {appeal.action.get_kind_display().lower()} is {appeal.status}"
    context = {"headline": headline, "appeal": appeal, "appeals_url": portal_url("compliance:partner_appeals")}
    _send(headline, "appeal_decision.txt", context, recipients)
    return len(recipients)


def queue_policy_change_notices(*, policy_id: int) -> None:
    run_after_commit("compliance.policy_change_notices", policy_id=policy_id)


@outbox_handler("compliance.policy_change_notices")
def send_policy_change_notices(*, policy_id: int) -> int:
    """Tell each organisation whose level a policy changed, once (the row's `notified_at`)."""
    sent = 0
    while True:
        with transaction.atomic():
            change = (
                PolicyLevelChange.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("policy", "partner")
                .filter(policy_id=policy_id, notified_at__isnull=True)
                .first()
            )
            if change is None:
                return sent
            change.notified_at = timezone.now()
            change.save(update_fields=["notified_at"])
            recipients = admin_emails(change.partner_id)
            if recipients:
                # Inside the transaction: if sending fails, the row stays unnotified and the next run retries.
                _send_policy_change_notice(change, recipients)
                sent += 1


def _send_policy_change_notice(change: PolicyLevelChange, recipients: list[str]) -> None:
    headline = (
        f"{change.partner}: access level changes from {change.get_level_before_display()} to "
        f"{change.get_level_after_display()}"
    )
    _send(headline, "policy_change.txt", {"headline": headline, "policy": change.policy}, recipients)
