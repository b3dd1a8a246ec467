"""Program managers' advisory editor (/program/advisories/): the advisory, its documents with live preview, its
files and detection indicators, its managers. Thin: forms check fields, services decide and audit, selectors read."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from advisories import forms, selectors, services
from advisories.fingerprinting.proposals import preview_html, propose
from advisories.models import AdvisoryStatus
from advisories.stix.services import add_detection_indicator
from core.access import manager_view, run_service
from core.forms import show_service_error
from core.levels import AccessLevel
from program.views.shared import advisory_or_404, level_or_404, restricted

ADVISORIES_PER_PAGE = 50
PREVIEW_MAX_CHARS = 200_000
MULTIPART_OVERHEAD_BYTES = 64 * 1024  # the form's other fields and the multipart boundaries


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


@require_GET
@manager_view
def advisory_list(request):
    search = request.GET.get("q", "")
    advisories = selectors.advisories_for_staff(user=request.user, search=search)
    page = Paginator(advisories, ADVISORIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "program/advisories/list.html", {"page": page, "search": search})


@require_http_methods(["GET", "POST"])
@manager_view
def advisory_create(request):
    form = forms.NewAdvisoryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            advisory = services.create_advisory(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_service_error(form, error)
        else:
            messages.success(request, f"{advisory.identifier} created as a draft.")
            for warning in services.release_plan_warnings(advisory, now=timezone.now()):
                messages.warning(request, warning)
            return redirect("program_advisories:detail", advisory.identifier)
    return render(request, "program/advisories/form.html", {"form": form, "advisory": None})


@require_GET
@manager_view
def advisory_detail(request, identifier):
    advisory = advisory_or_404(identifier)
    if not selectors.can_view_content(request.user, advisory):
        return restricted(request, advisory)
    waves = {wave.level: wave for wave in advisory.waves.all()}
    documents = {document.level: document for document in advisory.documents.all()}
    context = {
        "advisory": advisory,
        "is_assigned": selectors.is_assigned_manager(request.user, advisory),
        "managers": selectors.assigned_managers(advisory),
        "documents": [
            (level, documents.get(level), services.content_is_frozen(advisory, level))
            for level in (AccessLevel.GENERIC, AccessLevel.STANDARD)
        ],
        "artifacts": advisory.artifacts.all(),
        "detection_indicators": advisory.detection_indicators.all(),
        "indicator_form": forms.DetectionIndicatorForm(),
        "waves": [
            (level, waves.get(level)) for level in (AccessLevel.EARLY, AccessLevel.STANDARD, AccessLevel.GENERIC)
        ],
        "can_cancel": advisory.status == AdvisoryStatus.SCHEDULED,
        "warnings": services.release_plan_warnings(advisory, now=timezone.now()),
        "editable": advisory.status in (AdvisoryStatus.DRAFT, AdvisoryStatus.SCHEDULED),
        "assign_form": forms.AssignManagerForm(),
    }
    return render(request, "program/advisories/detail.html", context)


@require_http_methods(["GET", "POST"])
@manager_view
def advisory_edit(request, identifier):
    advisory = advisory_or_404(identifier)
    if not selectors.is_assigned_manager(request.user, advisory):
        return restricted(request, advisory)
    initial = {
        "title": advisory.title,
        "cve_ids": ", ".join(advisory.cve_ids),
        "affected_products": "\n".join(product.as_line() for product in advisory.affected_product_list),
        "cwe_id": advisory.cwe_id,
        "cvss_vector": advisory.cvss_vector,
        "tlp": advisory.tlp,
        "fingerprint_letters": advisory.fingerprint_letters,
    }
    form = forms.AdvisoryForm(request.POST or None, initial=initial)
    if (
        request.method == "POST"
        and form.is_valid()
        and run_service(
            request,
            lambda: services.update_advisory(actor=request.user, advisory=advisory, **form.cleaned_data),
            f"{advisory.identifier} saved.",
            form=form,
        )
    ):
        return redirect("program_advisories:detail", advisory.identifier)
    return render(request, "program/advisories/form.html", {"form": form, "advisory": advisory})


@require_http_methods(["GET", "POST"])
@manager_view
def document_edit(request, identifier, level):
    advisory = advisory_or_404(identifier)
    level = level_or_404(level, (AccessLevel.GENERIC, AccessLevel.STANDARD))
    if not selectors.is_assigned_manager(request.user, advisory):
        return restricted(request, advisory)
    document = advisory.documents.filter(level=level).first()
    initial = {"title": document.title, "body_markdown": document.body_markdown} if document else {}
    form = forms.DocumentForm(request.POST or None, initial=initial)
    if (
        request.method == "POST"
        and form.is_valid()
        and run_service(
            request,
            lambda: services.save_document(actor=request.user, advisory=advisory, level=level, **form.cleaned_data),
            f"The {level.label} description of {advisory.identifier} is saved.",
            form=form,
        )
    ):
        return redirect("program_advisories:detail", advisory.identifier)
    context = {
        "form": form,
        "advisory": advisory,
        "level": level,
        "frozen": services.content_is_frozen(advisory, level),
    }
    return render(request, "program/advisories/document.html", context)


@require_POST
@manager_view
def markdown_preview(request):
    """The Markdown as partners will see it: rendered and sanitised by the same function as the portal, with the
    author's variant points marked and their alternatives held for the editor to show."""
    text = request.POST.get("text", "")
    if len(text) > PREVIEW_MAX_CHARS:
        return HttpResponseBadRequest("Too long to preview.")
    response = HttpResponse(preview_html(text), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@manager_view
def variant_proposals(request):
    """Places of the text where the author could add a variant point (docs/fingerprinting.md)."""
    text = request.POST.get("text", "")
    if len(text) > PREVIEW_MAX_CHARS:
        return HttpResponseBadRequest("Too long to read.")
    response = JsonResponse({"proposals": propose(text)})
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@manager_view
def artifact_upload(request, identifier):
    advisory = advisory_or_404(identifier)
    if not selectors.is_assigned_manager(request.user, advisory):
        return restricted(request, advisory)
    if request.method == "POST" and _declared_length(request) > settings.ARTIFACT_MAX_BYTES + MULTIPART_OVERHEAD_BYTES:
        # Refused before the body is read: an oversized upload never reaches the disk.
        context = {
            "form": forms.ArtifactForm(),
            "advisory": advisory,
            "refusal": f"Files may be at most {settings.ARTIFACT_MAX_BYTES // (1024 * 1024)} MiB.",
        }
        return render(request, "program/advisories/artifact.html", context, status=413)
    form = forms.ArtifactForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            artifact = services.add_artifact(
                actor=request.user,
                advisory=advisory,
                level=data["level"],
                name=data["name"],
                description=data["description"],
                uploaded_file=data["file"],
            )
        except ValidationError as error:
            show_service_error(form, error)
        else:
            messages.success(request, f"{artifact.name} stored (sha256 {artifact.sha256}).")
            return redirect("program_advisories:detail", advisory.identifier)
    return render(request, "program/advisories/artifact.html", {"form": form, "advisory": advisory})


@require_GET
@manager_view
def artifact_download(request, identifier, artifact_id):
    advisory = advisory_or_404(identifier)
    if not selectors.can_view_content(request.user, advisory):
        return restricted(request, advisory)
    artifact = get_object_or_404(advisory.artifacts, pk=artifact_id)
    stored = services.open_artifact_for_staff(actor=request.user, artifact=artifact)
    response = FileResponse(
        stored, as_attachment=True, filename=artifact.file.name.rsplit("/", 1)[-1], content_type=artifact.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@manager_view
def manager_assign(request, identifier):
    advisory = advisory_or_404(identifier)
    if not selectors.is_assigned_manager(request.user, advisory):
        return restricted(request, advisory)
    form = forms.AssignManagerForm(request.POST)
    manager = None
    if form.is_valid():
        manager = get_user_model().objects.filter(email__iexact=form.cleaned_data["email"]).first()
    if manager is None:
        messages.error(request, "No program manager has that email address.")
    else:
        run_service(
            request,
            lambda: services.assign_advisory_manager(actor=request.user, advisory=advisory, manager=manager),
            f"{manager} is assigned to {advisory.identifier}.",
        )
    return redirect("program_advisories:detail", advisory.identifier)


@require_POST
@manager_view
def detection_indicator_add(request, identifier):
    """Publish a detection indicator with the advisory (partners read them as STIX 2.1, advisories/stix/)."""
    advisory = advisory_or_404(identifier)
    if not selectors.is_assigned_manager(request.user, advisory):
        return restricted(request, advisory)
    form = forms.DetectionIndicatorForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
        return redirect("program_advisories:detail", advisory.identifier)
    try:
        indicator = add_detection_indicator(actor=request.user, advisory=advisory, **form.cleaned_data)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Indicator {indicator.value} added for {indicator.get_level_display()} partners.")
    return redirect("program_advisories:detail", advisory.identifier)
