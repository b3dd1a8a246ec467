"""Staff pages: protection coverage per advisory and each organisation's record, for program managers and
compliance officers (periodic reviews). Indicators and feedback are shown to program managers who may see the
advisory's content (need-to-know)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from advisories.models import Advisory
from advisories.protection import selectors
from advisories.selectors import can_view_content, content_visible_advisory_ids
from core.roles import COMPLIANCE_OFFICERS, PROGRAM_MANAGERS, has_staff_role, is_program_manager
from partners.models import Partner


def coverage_staff_view(view):
    """Program managers and compliance officers: partners get 404 (staff pages do not exist for them), other
    staff 403."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff:
            raise Http404("No such page.")
        if not any(has_staff_role(request.user, role) for role in (PROGRAM_MANAGERS, COMPLIANCE_OFFICERS)):
            raise PermissionDenied("Program managers and compliance officers only.")
        return view(request, *args, **kwargs)

    return wrapper


@require_GET
@coverage_staff_view
def advisory_coverage(request, identifier):
    advisory = get_object_or_404(Advisory, identifier=identifier)
    content_visible = can_view_content(request.user, advisory)
    show_partner_input = content_visible and is_program_manager(request.user)
    context = {
        "advisory": advisory,
        "content_visible": content_visible,
        "coverage": selectors.advisory_coverage(advisory=advisory),
        "show_partner_input": show_partner_input,
        "indicators": selectors.indicators_for_advisory(advisory=advisory) if show_partner_input else [],
        "feedback": selectors.feedback_for_advisory(advisory=advisory) if show_partner_input else [],
    }
    return render(request, "program/advisories/coverage.html", context)


@require_GET
@coverage_staff_view
def partner_protection(request, partner_id):
    partner = get_object_or_404(Partner, pk=partner_id)
    record = selectors.partner_protection_record(partner=partner)
    context = {
        "record": record,
        "visible": content_visible_advisory_ids(request.user, [row.advisory for row in record.rows]),
    }
    return render(request, "program/partner_protection.html", context)
