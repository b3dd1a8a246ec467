import hashlib

from partners.models import ApiToken, MemberRole, PartnerMembership


def admin_membership(user) -> PartnerMembership | None:
    """The user's active partner-admin membership; None for anyone else (analysts, staff, inactive people)."""
    if not user.is_authenticated or not user.is_active or user.is_staff:
        return None
    return (
        PartnerMembership.objects.select_related("partner")
        .filter(user=user, is_active=True, role=MemberRole.ADMIN)
        .first()
    )


def api_tokens_of(partner) -> list[ApiToken]:
    """The organisation's tokens, newest first, with their creators."""
    return list(ApiToken.objects.filter(partner=partner).select_related("created_by"))


def api_token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_for_secret(secret: str) -> ApiToken | None:
    """The token whose secret this is (looked up by its SHA-256, never by the secret), or None."""
    return (
        ApiToken.objects.select_related("partner", "created_by").filter(secret_sha256=api_token_digest(secret)).first()
    )
