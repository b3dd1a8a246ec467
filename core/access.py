"""Who may open a page, and how a page shows a service's refusal. The rule itself (which partner may see what) is
the entitlement service's (compliance/entitlements.py); these decorators only gate pages on it and on staff roles.

- `staff_view(*roles)`: staff pages. Anyone who is not staff gets 404 (staff pages do not exist for partners, so
  no existence oracle); staff without one of the roles get 403. `hidden=True` gives 404 to staff without the role
  too (pages whose existence is itself need-to-know).
- `member_view`: pages for every active member of a partner organisation, whatever its level; 404 for everyone
  else, staff included. The view receives the member's partner access after the request.
- `partner_admin_view(refusal=..., template=..., title=...)`: pages for a partner organisation's admins; 404 for
  anyone who is no active partner member, a 403 with the page's own reason for members who may not use it.
- `run_service(request, action, success, form=None)`: call a service; its refusal is shown on the form (a field's error
  beside that field) or as a message, its success as a message.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import render

from core import registry
from core.forms import show_service_error
from core.roles import COMPLIANCE_OFFICERS, PROGRAM_MANAGERS, has_staff_role


def staff_view(*roles: str, hidden: bool = False):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            holds_role = any(has_staff_role(request.user, role) for role in roles)
            if not request.user.is_staff or (hidden and not holds_role):
                raise Http404("No such page.")
            if not holds_role:
                raise PermissionDenied("Your role does not include this page.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


manager_view = staff_view(PROGRAM_MANAGERS)
officer_view = staff_view(COMPLIANCE_OFFICERS)
program_staff_view = staff_view(PROGRAM_MANAGERS, COMPLIANCE_OFFICERS)


def member_view(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        access = registry.partner_access(request.user)
        if access is None:
            raise Http404("No such page.")
        return view(request, access, *args, **kwargs)

    return wrapper


def partner_admin_view(*, refusal: Callable, template: str = "", title: str = ""):
    """Pages for a partner organisation's admins. Anyone who is no active partner member (staff included) gets 404;
    a member for whom `refusal(membership)` gives a reason is refused with it (403): on `template` (given `title`
    and `error`), or with the plain 403 page when there is none. The view receives the membership after the
    request."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            membership = registry.partner_membership(request.user)
            if membership is None:
                raise Http404("No such page.")
            reason = refusal(membership)
            if reason and not template:
                raise PermissionDenied(reason)
            if reason:
                return render(request, template, {"title": title, "error": reason}, status=403)
            return view(request, membership, *args, **kwargs)

        return wrapper

    return decorator


def refusal_text(error: ValidationError | PermissionDenied) -> str:
    """Every message of a refusal, in one line (field errors included)."""
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        return " ".join(message for field_messages in error.message_dict.values() for message in field_messages)
    return " ".join(getattr(error, "messages", None) or [str(error)])


def run_service(request, action: Callable[[], object], success: str = "", *, form=None) -> bool:
    """Call `action` (a service call); True when it succeeded. A refusal (nothing changed) goes on `form` when one
    is given (a field's error beside that field, as core.forms.show_service_error does), otherwise into a message;
    `success`, if any, into a message."""
    try:
        action()
    except (ValidationError, PermissionDenied) as error:
        if form is not None and isinstance(error, ValidationError):
            show_service_error(form, error)
        elif form is not None:
            form.add_error(None, refusal_text(error))
        else:
            messages.error(request, refusal_text(error))
        return False
    if success:
        messages.success(request, success)
    return True
