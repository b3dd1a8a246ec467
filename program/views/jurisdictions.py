"""Jurisdiction policies (/program/compliance/jurisdictions/), for compliance officers."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from compliance import forms, selectors, services
from core.access import officer_view, refusal_text


@require_http_methods(["GET", "POST"])
@officer_view
def policy_list(request):
    """Every policy version; a new one is previewed (who would change, how) and saved only once confirmed."""
    form = forms.JurisdictionPolicyForm(request.POST or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if request.POST.get("confirm") == "yes":
            try:
                policy = services.set_jurisdiction_policy(actor=request.user, **data)
            except (ValidationError, PermissionDenied) as error:
                form.add_error(None, refusal_text(error))
            else:
                messages.success(request, f"Saved: {policy}.")
                return redirect("compliance:policy_list")
        preview = services.preview_jurisdiction_policy(
            country=data["country"], cap_level=data["cap_level"], effective_at=data["effective_at"]
        )
    return render(
        request,
        "compliance/policy_list.html",
        {"policies": selectors.jurisdiction_policies(), "form": form, "preview": preview, "now": timezone.now()},
        status=400 if form.errors else 200,
    )
