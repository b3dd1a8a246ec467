from django.contrib import admin

from core.roles import COMPLIANCE_OFFICERS, PROGRAM_MANAGERS, staff_roles


def roles(request):
    """What the navigation needs to know about the person: staff or partner, which staff roles (one query), and
    whether the Django admin would let them in (the admin's own rule), so that no link leads to a refusal."""
    user = request.user
    held = staff_roles(user)
    return {
        "is_staff_user": user.is_authenticated and user.is_staff,
        "is_program_manager_user": PROGRAM_MANAGERS in held,
        "is_compliance_officer_user": COMPLIANCE_OFFICERS in held,
        "may_open_admin": user.is_authenticated and user.is_staff and admin.site.has_permission(request),
    }
