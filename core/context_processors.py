from core.roles import COMPLIANCE_OFFICERS, PROGRAM_MANAGERS, staff_roles


def roles(request):
    """What the navigation needs to know about the person: staff or partner, and which staff roles (one query)."""
    user = request.user
    held = staff_roles(user)
    return {
        "is_staff_user": user.is_authenticated and user.is_staff,
        "is_program_manager_user": PROGRAM_MANAGERS in held,
        "is_compliance_officer_user": COMPLIANCE_OFFICERS in held,
    }
