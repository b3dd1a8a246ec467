"""Emails about an organisation's webhook endpoints, to its active partner admins."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse

from partners.models import MemberRole, PartnerMembership


def email_partner_admins(*, partner_id: int, subject: str, lines: list[str]) -> int:
    """Send one email to every active admin of the organisation; returns how many were addressed."""
    recipients = list(
        PartnerMembership.objects.filter(
            partner_id=partner_id, role=MemberRole.ADMIN, is_active=True, user__is_active=True
        ).values_list("user__email", flat=True)
    )
    if not recipients:
        return 0
    link = settings.FOREWARN_PORTAL_URL.rstrip("/") + reverse("advisories:webhooks")
    body = "\n".join([*lines, "", f"Webhook endpoints: {link}"])
    send_mail(f"[Forewarn] {subject}", body, settings.DEFAULT_FROM_EMAIL, recipients)
    return len(recipients)


def email_partner_admins_after_commit(partner_id: int, subject: str, lines: list[str]) -> None:
    """`email_partner_admins` once the caller's transaction commits (never for a change that was rolled back)."""
    transaction.on_commit(lambda: email_partner_admins(partner_id=partner_id, subject=subject, lines=lines))
