"""Leak investigations (/program/leaks/), for compliance officers only: to anyone else, staff included, the pages
do not exist (404). An incident, its traced samples, the exposure report, the violations opened from it."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from advisories import selectors, services
from advisories.forms import LeakIncidentForm, LeakSampleForm, SuspectViolationForm
from advisories.models import LeakIncident
from core.access import staff_view
from core.roles import COMPLIANCE_OFFICERS
from partners.models import Partner
from program.views.shared import PER_PAGE

compliance_officer_view = staff_view(COMPLIANCE_OFFICERS, hidden=True)


@require_http_methods(["GET", "POST"])
@compliance_officer_view
def leak_incident_list(request):
    form = LeakIncidentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = services.open_leak_incident(
                actor=request.user,
                advisory=data["advisory"],
                observed_at=data["observed_at"],
                description=data["description"],
                sample_text=data.get("sample_text") or "",
                sample_source=data.get("sample_source") or "",
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Leak investigation opened.")
            return redirect("leaks:detail", incident.pk)
    page = Paginator(selectors.leak_incidents(), PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "advisories/leaks/list.html", {"page": page, "form": form})


@require_GET
@compliance_officer_view
def leak_incident_detail(request, incident_id):
    incident = get_object_or_404(LeakIncident.objects.select_related("advisory", "opened_by"), pk=incident_id)
    return _render_incident(request, incident, sample_form=LeakSampleForm())


def _render_incident(request, incident, *, sample_form, status=200):
    return render(
        request,
        "advisories/leaks/detail.html",
        {
            "incident": incident,
            "exposures": selectors.exposure_report(incident=incident),
            "later_cohorts": selectors.cohorts_not_yet_released(incident=incident),
            "indicators": selectors.indicators_for_incident(incident=incident),
            "samples": [
                (sample, _displayed_trace(sample.trace_result))
                for sample in incident.samples.select_related("submitted_by")
            ],
            "violations": incident.violations.select_related("partner"),
            "sample_form": sample_form,
        },
        status=status,
    )


def _one_row_per_copy(rows: list[dict]) -> list[dict]:
    """A served copy is one delivery read by one person: keep its best-ranked row only (the ranking may list a
    copy once per access to it)."""
    seen, copies = set(), []
    for row in rows:
        key = (row.get("delivery"), row.get("user_email"))
        if key not in seen:
            seen.add(key)
            copies.append({**row})
    return copies


def _displayed_trace(result: dict) -> dict:
    """The stored trace, one row per served copy, with its p-values written for people (e.g. "3.1e-15")."""
    result = {**result, "ranked": _one_row_per_copy(result.get("ranked", []))}
    if result.get("match"):
        result["match"] = {**result["match"]}
    for row in [*result["ranked"], *([result["match"]] if result.get("match") else [])]:
        row["adjusted_p_display"] = f"{row['adjusted_p_value']:.2g}"
    return result


@require_POST
@compliance_officer_view
def leak_sample_add(request, incident_id):
    incident = get_object_or_404(LeakIncident.objects.select_related("advisory"), pk=incident_id)
    form = LeakSampleForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_leak_sample(
                actor=request.user,
                incident=incident,
                text=form.cleaned_data["sample_text"],
                source=form.cleaned_data.get("sample_source") or "",
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Sample traced.")
            return redirect("leaks:detail", incident.pk)
    return _render_incident(request, incident, sample_form=form, status=400)


@require_http_methods(["GET", "POST"])
@compliance_officer_view
def leak_violation_open(request, incident_id):
    """A deliberate step of its own: the officer chooses the organisation and the severity (nothing preset) and
    sees what will be attached before opening a violation."""
    incident = get_object_or_404(LeakIncident.objects.select_related("advisory"), pk=incident_id)
    exposures = selectors.exposure_report(incident=incident)
    form = SuspectViolationForm(
        request.POST if request.method == "POST" else None,
        exposures=exposures,
        initial={"partner": request.GET.get("partner")},
    )
    if request.method == "POST" and form.is_valid():
        partner = get_object_or_404(Partner, pk=form.cleaned_data["partner"])
        try:
            violation = services.open_violation_for_suspect(
                actor=request.user, incident=incident, partner=partner, severity=form.cleaned_data["severity"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Violation {violation.pk} opened against {partner} with the evidence attached.")
            return redirect("leaks:detail", incident.pk)
    context = {"incident": incident, "form": form, "exposures": exposures}
    return render(request, "advisories/leaks/open_violation.html", context, status=400 if form.errors else 200)
