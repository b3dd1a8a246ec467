from advisories.selectors import unread_notice_count


def notices(request):
    """The unread count for the partner navigation (one COUNT query; nothing for staff, anonymous users and sessions
    that have not passed the second factor)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.is_staff or not getattr(user, "is_verified", bool)():
        return {}
    return {"unread_notices": unread_notice_count(user=user)}
