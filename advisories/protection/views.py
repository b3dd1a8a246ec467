"""Partner pages: the organisation's protection status for an advisory it received, its feedback, and the
indicators it observed. Thin: the entitlement selectors decide access (404 otherwise), the services decide and
audit."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from advisories.protection import selectors, services
from advisories.protection.forms import PartnerIndicatorForm, ProtectionStatusForm
from advisories.views import acknowledgement_redirect, partner_view
from core.forms import show_service_error
from core.http import client_ip


def _advisory_or_gate(request, access, identifier):
    gate = acknowledgement_redirect(request, access, identifier, return_to=request.path)
    if gate is not None:
        return None, gate
    return selectors.reportable_advisory_for_partner(access=access, identifier=identifier), None


@require_http_methods(["GET", "POST"])
@partner_view
def protection_status(request, access, identifier):
    advisory, gate = _advisory_or_gate(request, access, identifier)
    if gate is not None:
        return gate
    status = selectors.protection_status_for_partner(access=access, advisory=advisory)
    next_states = selectors.next_protection_states(status)
    initial = {
        "state": status.state,
        "products": status.products,
        "signature_ids": status.signature_ids,
        "shipped_at": status.shipped_at,
        "notes": status.notes,
    }
    form = ProtectionStatusForm(
        request.POST if request.method == "POST" else None, initial=initial, status=status, next_states=next_states
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.report_protection_status(
                access=access,
                advisory=advisory,
                state=data["state"],
                products=data["products"],
                signature_ids=data["signature_ids"],
                shipped_at=None if form.fields["shipped_at"].disabled else data["shipped_at"],
                notes=data["notes"],
                ip_address=client_ip(request),
            )
            if data["feedback_text"]:
                services.submit_protection_feedback(
                    access=access,
                    advisory=advisory,
                    kind=data["feedback_kind"],
                    text=data["feedback_text"],
                    ip_address=client_ip(request),
                )
        except ValidationError as error:
            show_service_error(form, error)
        else:
            messages.success(request, "Your protection status is saved.")
            return redirect("advisories:protection", advisory.identifier)
    return render(
        request,
        "advisories/protection.html",
        {
            "access": access,
            "advisory": advisory,
            "status": status,
            "form": form,
            "feedback": selectors.feedback_for_partner(access=access, advisory=advisory),
        },
        status=400 if form.is_bound else 200,
    )


@require_http_methods(["GET", "POST"])
@partner_view
def partner_indicators(request, access, identifier):
    advisory, gate = _advisory_or_gate(request, access, identifier)
    if gate is not None:
        return gate
    form = PartnerIndicatorForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.submit_partner_indicator(
                access=access, advisory=advisory, ip_address=client_ip(request), **form.cleaned_data
            )
        except ValidationError as error:
            show_service_error(form, error)
        else:
            messages.success(request, "The indicator is recorded. Thank you.")
            return redirect("advisories:indicators", advisory.identifier)
    return render(
        request,
        "advisories/indicators.html",
        {
            "access": access,
            "advisory": advisory,
            "form": form,
            "indicators": selectors.indicators_for_partner(access=access, advisory=advisory),
        },
        status=400 if form.is_bound else 200,
    )
