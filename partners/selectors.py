import hashlib

from django.db.models import QuerySet
from django.utils import timezone

from partners.models import ApiToken, Invitation, MemberRole, Partner, PartnerMembership, PartnerStatus


def active_membership(user) -> PartnerMembership | None:
    """The user's active membership with its organisation; None for anyone else (anonymous, staff, deactivated)."""
    if not user.is_authenticated or not user.is_active or user.is_staff:
        return None
    return PartnerMembership.objects.select_related("partner").filter(user=user, is_active=True).first()


def team_refusal(membership: PartnerMembership) -> str | None:
    """Why this member may not manage the organisation's team (None: they may): only the admins of an active
    organisation do. The team pages and the navigation both ask this."""
    if membership.partner.status != PartnerStatus.ACTIVE:
        return f"{membership.partner} is {membership.partner.status}: its team cannot change."
    if membership.role != MemberRole.ADMIN:
        return "Only your organisation's partner admins manage its team."
    return None


def team_members(partner: Partner) -> QuerySet[PartnerMembership]:
    return partner.memberships.select_related("user").order_by("-is_active", "user__email")


def pending_invitations(partner: Partner) -> QuerySet[Invitation]:
    return partner.invitations.pending(timezone.now()).select_related("invited_by").order_by("email")


def seats_used(partner: Partner) -> int:
    return partner.memberships.filter(is_active=True).count() + partner.invitations.pending(timezone.now()).count()


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


def is_active_admin(user, partner_id: int) -> bool:
    """Whether the user is, by the database now, an active partner admin of this organisation."""
    return PartnerMembership.objects.filter(
        user=user, partner_id=partner_id, role=MemberRole.ADMIN, is_active=True, user__is_active=True
    ).exists()


def admin_emails(partner_id: int) -> list[str]:
    """The addresses of the organisation's active partner admins, in order: who its notices go to."""
    return list(
        PartnerMembership.objects.filter(
            partner_id=partner_id, role=MemberRole.ADMIN, is_active=True, user__is_active=True
        )
        .order_by("user__email")
        .values_list("user__email", flat=True)
    )
