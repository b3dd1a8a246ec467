from advisories.selectors import unread_notice_count
from compliance.entitlements import partner_access
from core.levels import AccessLevel
from partners.models import MemberRole
from partners.selectors import team_refusal


def notices(request):
    """The partner navigation: the unread count (one COUNT query) and which pages the person may open, by the
    rules those pages apply: the advisories only while the organisation has access (`partner_access`, reused
    when the view already resolved it), the admin pages for partner admins. Nothing for staff, anonymous users and
    sessions that have not passed the second factor."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.is_staff or not getattr(user, "is_verified", bool)():
        return {}
    access = getattr(request, "partner_access", None) or partner_access(user)
    membership = access.membership if access is not None else None
    is_admin = membership is not None and membership.role == MemberRole.ADMIN
    return {
        "unread_notices": unread_notice_count(user=user),
        "partner_nav": {
            "advisories": access is not None and access.level > AccessLevel.NONE,
            "team": membership is not None and team_refusal(membership) is None,
            "api_tokens": is_admin,
            "webhooks": is_admin,
            "appeals": is_admin,
        },
    }
