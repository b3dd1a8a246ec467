"""Protection coverage per advisory (/program/advisories/<id>/coverage/) and each organisation's protection record
(/program/partners/<id>/protection/), for program managers and compliance officers (periodic reviews). Indicators
and feedback are shown to program managers who may see the advisory's content (need-to-know)."""

from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from advisories.models import Advisory
from advisories.protection import selectors
from advisories.selectors import can_view_content, content_visible_advisory_ids
from core.access import program_staff_view
from core.roles import is_program_manager
from partners.models import Partner


@require_GET
@program_staff_view
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
@program_staff_view
def partner_protection(request, partner_id):
    partner = get_object_or_404(Partner, pk=partner_id)
    record = selectors.partner_protection_record(partner=partner)
    context = {
        "record": record,
        "visible": content_visible_advisory_ids(request.user, [row.advisory for row in record.rows]),
    }
    return render(request, "program/partner_protection.html", context)
