"""Staff roles are Django groups; partner roles are memberships (see partners.models)."""

PROGRAM_MANAGERS = "program-managers"
COMPLIANCE_OFFICERS = "compliance-officers"
STAFF_GROUPS = (PROGRAM_MANAGERS, COMPLIANCE_OFFICERS)


def has_staff_role(user, role: str) -> bool:
    if user is None or not user.is_authenticated or not user.is_active or not user.is_staff:
        return False
    return user.is_superuser or user.groups.filter(name=role).exists()


def is_program_manager(user) -> bool:
    return has_staff_role(user, PROGRAM_MANAGERS)


def is_compliance_officer(user) -> bool:
    return has_staff_role(user, COMPLIANCE_OFFICERS)


def require_staff_role(actor, *roles: str) -> None:
    """Refuse the action unless the actor holds one of `roles` (services call this first)."""
    from django.core.exceptions import PermissionDenied

    if not any(has_staff_role(actor, role) for role in roles):
        raise PermissionDenied("You may not do this.")


def require_program_manager(actor) -> None:
    """Refuse the action unless the actor is a program manager (services call this first)."""
    require_role(actor, PROGRAM_MANAGERS)


def require_compliance_officer(actor) -> None:
    """Refuse the action unless the actor is a compliance officer (services call this first)."""
    require_role(actor, COMPLIANCE_OFFICERS)


def require_role(actor, role: str) -> None:
    from django.core.exceptions import PermissionDenied

    if not has_staff_role(actor, role):
        labels = {PROGRAM_MANAGERS: "program managers", COMPLIANCE_OFFICERS: "compliance officers"}
        raise PermissionDenied(f"Only {labels.get(role, role)} may do this.")


def staff_roles(user) -> set[str]:
    """The staff roles the user holds, in one query (every role for a superuser; none for non-staff)."""
    if user is None or not user.is_authenticated or not user.is_active or not user.is_staff:
        return set()
    if user.is_superuser:
        return set(STAFF_GROUPS)
    return set(user.groups.filter(name__in=STAFF_GROUPS).values_list("name", flat=True))
