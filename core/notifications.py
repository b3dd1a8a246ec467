"""Emails about a person's own account (core): every change to the second factor is told to the account's address,
so that its owner notices a change they did not make."""

from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from core.outbox import outbox_handler

SECOND_FACTOR_CHANGES = {
    "enrolled": "Two-factor authentication was set up for your Forewarn account",
    "authenticator_added": "An authenticator app was added to your Forewarn account",
    "authenticator_replaced": "The authenticator app of your Forewarn account was replaced",
    "authenticator_removed": "An authenticator app was removed from your Forewarn account",
    "recovery_codes_regenerated": "New recovery codes were made for your Forewarn account",
    "recovery_code_used": "A recovery code of your Forewarn account was used",
    "reset": "The second factor of your Forewarn account was reset",
}


@outbox_handler("core.second_factor_notice")
def send_second_factor_notice(
    *, user_id: int, change: str, at: str, ip_address: str | None = None, details: dict | None = None
) -> bool:
    """Email the account about one change to its second factor: what, when (UTC), from which address, and where to
    look. Never a code or a secret."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    headline = SECOND_FACTOR_CHANGES[change]
    body = render_to_string(
        "emails/core/second_factor_changed.txt",
        {
            "headline": headline,
            "change": change,
            "at": datetime.fromisoformat(at),
            "ip_address": ip_address,
            "details": details or {},
            "security_url": settings.FOREWARN_PORTAL_URL + reverse("account_security"),
            "login_url": settings.FOREWARN_PORTAL_URL + reverse("login"),
        },
    )
    send_mail(f"[Forewarn] {headline}", body, settings.DEFAULT_FROM_EMAIL, [user.email])
    return True
