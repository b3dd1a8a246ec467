from advisories.selectors import unread_notice_count
from partners.models import MemberRole
from partners.selectors import active_membership, team_refusal


def notices(request):
    """The partner navigation: the unread count (one COUNT query) and which admin pages the person may open, by
    the rules those pages apply (one query for the membership). Nothing for staff and anonymous users."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.is_staff:
        return {}
    membership = active_membership(user)
    is_admin = membership is not None and membership.role == MemberRole.ADMIN
    return {
        "unread_notices": unread_notice_count(user=user),
        "partner_nav": {
            "team": membership is not None and team_refusal(membership) is None,
            "api_tokens": is_admin,
            "appeals": is_admin,
        },
    }
