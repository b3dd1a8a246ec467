from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from advisories import selectors, services
from advisories.forms import LeakIncidentForm, LeakSampleForm, SuspectViolationForm
from advisories.models import AccessKind, LeakIncident
from advisories.personalisation import fingerprinted_markdown, issued_to_banner, personalised_chunks
from compliance.entitlements import partner_access
from compliance.models import ViolationSeverity
from core.http import client_ip, user_agent
from core.levels import AccessLevel
from core.markdown import render_markdown
from core.roles import is_compliance_officer
from partners.models import Partner

ADVISORIES_PER_PAGE = 25


def partner_view(view):
    """Partner pages: log in first; anyone who is not an active partner member gets 404 (staff included); members of
    an organisation without access get a clear refusal."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        access = partner_access(request.user)
        if access is None:
            raise Http404("No such page.")
        if access.level == AccessLevel.NONE:
            return render(request, "advisories/no_access.html", {"partner": access.partner}, status=403)
        return view(request, access, *args, **kwargs)

    return wrapper


@require_GET
@partner_view
def advisory_list(request, access):
    search = request.GET.get("q", "")
    advisories = selectors.advisories_for_partner(access=access, search=search)
    page = Paginator(advisories, ADVISORIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "advisories/list.html", {"access": access, "page": page, "search": search})


@require_GET
@partner_view
def advisory_detail(request, access, identifier):
    advisory = selectors.advisory_for_partner(access=access, identifier=identifier)
    event = services.record_access(
        access=access,
        user=request.user,
        advisory=advisory,
        kind=AccessKind.VIEW,
        ip_address=client_ip(request),
        user_agent=user_agent(request),
    )
    documents = [
        (
            document,
            render_markdown(fingerprinted_markdown(document.body_markdown, delivery=event.delivery, user=request.user)),
        )
        for document in advisory.documents.all()
    ]
    banner = issued_to_banner(
        delivery=event.delivery, partner=access.partner, user=request.user, tlp_label=advisory.get_tlp_display()
    )
    return render(
        request,
        "advisories/detail.html",
        {"access": access, "advisory": advisory, "documents": documents, "banner": banner},
    )


@require_GET
@partner_view
def artifact_download(request, access, identifier, artifact_id):
    artifact = selectors.artifact_for_partner(access=access, identifier=identifier, artifact_id=artifact_id)
    event = services.record_access(
        access=access,
        user=request.user,
        advisory=artifact.advisory,
        artifact=artifact,
        kind=AccessKind.DOWNLOAD,
        ip_address=client_ip(request),
        user_agent=user_agent(request),
    )
    banner = issued_to_banner(
        delivery=event.delivery,
        partner=access.partner,
        user=request.user,
        tlp_label=artifact.advisory.get_tlp_display(),
    )
    response = StreamingHttpResponse(
        personalised_chunks(artifact, banner, delivery=event.delivery, user=request.user),
        content_type=artifact.content_type,
    )
    filename = artifact.file.name.rsplit("/", 1)[-1]
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["X-Forewarn-Delivery"] = str(event.delivery_id or "")
    return response


# Leak investigations (compliance officers) -----------------------------------------------------------------------


def compliance_officer_view(view):
    """Staff pages for compliance officers; anybody else gets 404 (no existence oracle for partners)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_compliance_officer(request.user):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapper


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
    incidents = LeakIncident.objects.select_related("advisory", "opened_by").annotate(
        sample_count=Count("samples", distinct=True), violation_count=Count("violations", distinct=True)
    )
    page = Paginator(incidents, ADVISORIES_PER_PAGE).get_page(request.GET.get("page"))
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
            "samples": [
                (sample, _displayed_trace(sample.trace_result))
                for sample in incident.samples.select_related("submitted_by")
            ],
            "violations": incident.violations.select_related("partner"),
            "sample_form": sample_form,
            "severities": ViolationSeverity.choices,
        },
        status=status,
    )


def _displayed_trace(result: dict) -> dict:
    """The stored trace with its p-values written for people (e.g. "3.1e-15")."""
    result = {**result, "ranked": [{**row} for row in result.get("ranked", [])]}
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


@require_POST
@compliance_officer_view
def leak_violation_open(request, incident_id):
    incident = get_object_or_404(LeakIncident.objects.select_related("advisory"), pk=incident_id)
    form = SuspectViolationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose an organisation and a severity.")
        return redirect("leaks:detail", incident.pk)
    partner = get_object_or_404(Partner, pk=form.cleaned_data["partner"])
    try:
        violation = services.open_violation_for_suspect(
            actor=request.user, incident=incident, partner=partner, severity=form.cleaned_data["severity"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Violation {violation.pk} opened against {partner} with the evidence attached.")
    return redirect("leaks:detail", incident.pk)
