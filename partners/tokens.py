"""Signed tokens in the links we email: the application's email verification and the invitation. The signature
(keyed by SECRET_KEY) makes them unforgeable and bounds their age; the database row decides whether they may still be
used (single use, revocation, expiry)."""

from django.conf import settings
from django.core import signing

APPLICATION_SALT = "partners.application-email"
INVITATION_SALT = "partners.invitation"


def application_token(application) -> str:
    return signing.dumps({"a": application.pk, "e": application.applicant_email}, salt=APPLICATION_SALT)


def read_application_token(token: str) -> dict | None:
    """The signed content, or None when the token is forged, damaged or older than the verification window."""
    try:
        return signing.loads(token, salt=APPLICATION_SALT, max_age=settings.APPLICATION_VERIFICATION_MAX_AGE)
    except signing.BadSignature:
        return None


def invitation_token(invitation) -> str:
    return signing.dumps({"i": invitation.pk, "n": invitation.nonce}, salt=INVITATION_SALT)


def read_invitation_token(token: str) -> dict | None:
    try:
        return signing.loads(token, salt=INVITATION_SALT, max_age=settings.INVITATION_MAX_AGE)
    except signing.BadSignature:
        return None
