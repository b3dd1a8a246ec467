from django.db.models import QuerySet
from django.utils import timezone

from partners.models import Invitation, Partner, PartnerMembership


def active_membership(user) -> PartnerMembership | None:
    """The user's active membership with its organisation; None for anyone else (anonymous, staff, deactivated)."""
    if not user.is_authenticated or not user.is_active or user.is_staff:
        return None
    return PartnerMembership.objects.select_related("partner").filter(user=user, is_active=True).first()


def team_members(partner: Partner) -> QuerySet[PartnerMembership]:
    return partner.memberships.select_related("user").order_by("-is_active", "user__email")


def pending_invitations(partner: Partner) -> QuerySet[Invitation]:
    return partner.invitations.pending(timezone.now()).select_related("invited_by").order_by("email")


def seats_used(partner: Partner) -> int:
    return partner.memberships.filter(is_active=True).count() + partner.invitations.pending(timezone.now()).count()
