"""Emails of the partners layer: standing changes told to an organisation's admins, the applicant's emails, and
invitations. Services queue them in their own transaction (core/outbox.py); each handler builds its email when it
runs, from what the database says then, with links by `reverse()` on FOREWARN_PORTAL_URL."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from core.levels import AccessLevel
from core.models import AuditEvent
from core.outbox import outbox_handler, run_after_commit
from partners import tokens
from partners.models import ApplicationStatus, Invitation, Partner, PartnerApplication

STANDING_HEADLINES = {
    "partner.suspended": "{partner} is suspended from the Forewarn partner program",
    "partner.reinstated": "{partner} is reinstated in the Forewarn partner program",
    "partner.removed": "{partner} is removed from the Forewarn partner program",
}


def portal_url(name: str, *args) -> str:
    """The absolute address of a page of the portal."""
    return settings.FOREWARN_PORTAL_URL + reverse(name, args=args)


def _send(subject: str, template: str, context: dict, recipients: list[str]) -> None:
    body = render_to_string(f"emails/partners/{template}", context)
    send_mail(f"[Forewarn] {subject}", body, settings.DEFAULT_FROM_EMAIL, recipients)


def queue_partner_notice(*, event_id: int, user_ids: list[int]) -> None:
    """After commit, tell these people about one audited change of their organisation."""
    if user_ids:
        run_after_commit("partners.partner_notice", event_id=event_id, user_ids=user_ids)


@outbox_handler("partners.partner_notice")
def send_partner_notice(*, event_id: int, user_ids: list[int]) -> int:
    """Email the named people about one audited change of their organisation (its standing, its team)."""
    event = AuditEvent.objects.get(pk=event_id)
    partner = Partner.objects.get(pk=event.target_id)
    recipients = list(get_user_model().objects.filter(pk__in=user_ids).values_list("email", flat=True))
    if not recipients:
        return 0
    template = STANDING_HEADLINES.get(event.action, "Change to {partner} in the Forewarn partner program")
    headline = template.format(partner=partner)
    until = event.details.get("until")
    context = {
        "headline": headline,
        "reason": event.details.get("reason"),
        "until": until.replace("T", " ")[:16] if until else None,
        "at": event.created_at,
        "portal_url": portal_url("home"),
    }
    _send(headline, "partner_notice.txt", context, recipients)
    return len(recipients)


def queue_duplicate_application_notice(*, email: str, legal_name: str, reason: str) -> None:
    run_after_commit("partners.duplicate_application_notice", email=email, legal_name=legal_name, reason=reason)


@outbox_handler("partners.duplicate_application_notice")
def send_duplicate_application_notice(*, email: str, legal_name: str, reason: str) -> None:
    """Tell an applicant why their application was not recorded (there is no row to name: nothing was saved)."""
    context = {"legal_name": legal_name, "reason": reason}
    _send("Your partner application", "duplicate_application.txt", context, [email])


def queue_application_email(*, application_id: int, kind: str) -> None:
    """After commit, email the applicant: `verification`, `approved` or `rejected`."""
    run_after_commit("partners.application_email", application_id=application_id, kind=kind)


@outbox_handler("partners.application_email")
def send_application_email(*, application_id: int, kind: str) -> None:
    """Email the applicant: the verification link, or the decision (approved / rejected with the reason)."""
    application = PartnerApplication.objects.get(pk=application_id)
    context = {"application": application}
    if kind == "verification":
        if application.status != ApplicationStatus.SUBMITTED:
            return
        subject = "Confirm your email address for your partner application"
        context["link"] = portal_url("partners:verify_application", tokens.application_token(application))
        context["hours"] = settings.APPLICATION_VERIFICATION_MAX_AGE // 3600
    elif kind == "approved":
        subject = f"{application.legal_name} is approved as a partner"
        context["level"] = AccessLevel(application.assigned_level).label
    elif kind == "rejected":
        subject = f"Your partner application for {application.legal_name}"
    else:
        raise ValueError(kind)
    _send(subject, f"application_{kind}.txt", context, [application.applicant_email])


def queue_invitation(*, invitation_id: int) -> None:
    run_after_commit("partners.invitation", invitation_id=invitation_id)


@outbox_handler("partners.invitation")
def send_invitation(*, invitation_id: int) -> bool:
    """Email a pending invitation's link to the invitee."""
    invitation = Invitation.objects.select_related("partner").get(pk=invitation_id)
    if invitation.state(timezone.now()) != "pending":
        return False
    context = {
        "invitation": invitation,
        "link": portal_url("partners:accept_invitation", tokens.invitation_token(invitation)),
    }
    _send(f"Invitation to join {invitation.partner}", "invitation.txt", context, [invitation.email])
    return True
