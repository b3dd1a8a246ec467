"""Program managers' pages for advisories: editor, documents with live preview, files, release plan, release
status per wave, calendar, withdrawal. Thin: forms check fields, services decide and audit, selectors read."""

import calendar
from datetime import UTC, datetime, timedelta
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from advisories import forms, selectors, services
from advisories.fingerprinting.proposals import preview_html, propose
from advisories.models import Advisory, AdvisoryStatus, ReleaseWave, WaveStatus
from advisories.stix.services import add_detection_indicator
from core.confirmation import confirmation_page, is_confirmed
from core.forms import show_service_error
from core.levels import AccessLevel
from core.roles import is_program_manager

ADVISORIES_PER_PAGE = 50
DELIVERIES_PER_PAGE = 100
PREVIEW_MAX_CHARS = 200_000
MULTIPART_OVERHEAD_BYTES = 64 * 1024  # the form's other fields and the multipart boundaries
LEVEL_SLUGS = {level.label: level for level in (AccessLevel.GENERIC, AccessLevel.STANDARD, AccessLevel.EARLY)}


def program_manager_view(view):
    """Program managers only: partners get 404 (staff pages do not exist for them), other staff 403."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff:
            raise Http404("No such page.")
        if not is_program_manager(request.user):
            raise PermissionDenied("Program managers only.")
        return view(request, *args, **kwargs)

    return wrapper


def _advisory(identifier) -> Advisory:
    return get_object_or_404(Advisory, identifier=identifier)


def _restricted(request, advisory):
    """Need-to-know: an unassigned manager learns that the advisory exists, nothing more."""
    return render(request, "program/advisories/restricted.html", {"advisory": advisory}, status=403)


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _level(slug: str, allowed) -> AccessLevel:
    level = LEVEL_SLUGS.get(slug)
    if level not in allowed:
        raise Http404("No such level.")
    return level


@require_GET
@program_manager_view
def advisory_list(request):
    search = request.GET.get("q", "")
    advisories = selectors.advisories_for_staff(user=request.user, search=search)
    page = Paginator(advisories, ADVISORIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "program/advisories/list.html", {"page": page, "search": search})


@require_http_methods(["GET", "POST"])
@program_manager_view
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
@program_manager_view
def advisory_detail(request, identifier):
    advisory = _advisory(identifier)
    if not selectors.can_view_content(request.user, advisory):
        return _restricted(request, advisory)
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
@program_manager_view
def advisory_edit(request, identifier):
    advisory = _advisory(identifier)
    if not selectors.is_assigned_manager(request.user, advisory):
        return _restricted(request, advisory)
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
    if request.method == "POST" and form.is_valid():
        try:
            services.update_advisory(actor=request.user, advisory=advisory, **form.cleaned_data)
        except ValidationError as error:
            show_service_error(form, error)
        else:
            messages.success(request, f"{advisory.identifier} saved.")
            return redirect("program_advisories:detail", advisory.identifier)
    return render(request, "program/advisories/form.html", {"form": form, "advisory": advisory})


@require_http_methods(["GET", "POST"])
@program_manager_view
def document_edit(request, identifier, level):
    advisory = _advisory(identifier)
    level = _level(level, (AccessLevel.GENERIC, AccessLevel.STANDARD))
    if not selectors.is_assigned_manager(request.user, advisory):
        return _restricted(request, advisory)
    document = advisory.documents.filter(level=level).first()
    initial = {"title": document.title, "body_markdown": document.body_markdown} if document else {}
    form = forms.DocumentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_document(actor=request.user, advisory=advisory, level=level, **form.cleaned_data)
        except ValidationError as error:
            show_service_error(form, error)
        else:
            messages.success(request, f"The {level.label} description of {advisory.identifier} is saved.")
            return redirect("program_advisories:detail", advisory.identifier)
    context = {
        "form": form,
        "advisory": advisory,
        "level": level,
        "frozen": services.content_is_frozen(advisory, level),
    }
    return render(request, "program/advisories/document.html", context)


@require_POST
@program_manager_view
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
@program_manager_view
def variant_proposals(request):
    """Places of the text where the author could add a variant point (docs/fingerprinting.md)."""
    text = request.POST.get("text", "")
    if len(text) > PREVIEW_MAX_CHARS:
        return HttpResponseBadRequest("Too long to read.")
    response = JsonResponse({"proposals": propose(text)})
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@program_manager_view
def artifact_upload(request, identifier):
    advisory = _advisory(identifier)
    if not selectors.is_assigned_manager(request.user, advisory):
        return _restricted(request, advisory)
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
@program_manager_view
def artifact_download(request, identifier, artifact_id):
    advisory = _advisory(identifier)
    if not selectors.can_view_content(request.user, advisory):
        return _restricted(request, advisory)
    artifact = get_object_or_404(advisory.artifacts, pk=artifact_id)
    stored = services.open_artifact_for_staff(actor=request.user, artifact=artifact)
    response = FileResponse(
        stored, as_attachment=True, filename=artifact.file.name.rsplit("/", 1)[-1], content_type=artifact.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "POST"])
@program_manager_view
def release_plan(request, identifier):
    advisory = _advisory(identifier)
    if not selectors.is_assigned_manager(request.user, advisory):
        return _restricted(request, advisory)
    waves = {w.level: w for w in advisory.waves.exclude(status=WaveStatus.CANCELLED)}
    initial = {
        "early_at": getattr(waves.get(AccessLevel.EARLY), "scheduled_at", None),
        "standard_at": getattr(waves.get(AccessLevel.STANDARD), "scheduled_at", None),
        "public_release_at": advisory.public_release_at,
    }
    form = forms.ReleasePlanForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_release_plan(actor=request.user, advisory=advisory, **form.cleaned_data)
        except ValidationError as error:
            show_service_error(form, error)
        else:
            messages.success(request, f"The release plan of {advisory.identifier} is scheduled.")
            return redirect("program_advisories:detail", advisory.identifier)
    released = sorted(w.get_level_display() for w in waves.values() if w.status == WaveStatus.RELEASED)
    context = {
        "form": form,
        "advisory": advisory,
        "released": released,
        "warnings": services.release_plan_warnings(advisory, now=timezone.now()),
    }
    return render(request, "program/advisories/plan.html", context)


@require_POST
@program_manager_view
def release_plan_cancel(request, identifier):
    advisory = _advisory(identifier)
    if not selectors.is_assigned_manager(request.user, advisory):
        return _restricted(request, advisory)
    if not is_confirmed(request):
        return confirmation_page(
            request,
            title=f"Cancel the release plan of {advisory.identifier}?",
            consequences=[
                "Every wave still to come is cancelled: nothing of this advisory will be released.",
                "The advisory returns to draft; you can schedule a new plan later.",
            ],
            confirm_label="Cancel the plan",
            back_url=reverse("program_advisories:detail", args=[advisory.identifier]),
        )
    try:
        services.cancel_release_plan(actor=request.user, advisory=advisory)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"The release plan of {advisory.identifier} is cancelled; it is a draft again.")
    return redirect("program_advisories:detail", advisory.identifier)


@require_http_methods(["GET", "POST"])
@program_manager_view
def advisory_withdraw(request, identifier):
    advisory = _advisory(identifier)
    if not selectors.is_assigned_manager(request.user, advisory):
        return _restricted(request, advisory)
    form = forms.WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not is_confirmed(request):
            return confirmation_page(
                request,
                title=f"Withdraw {advisory.identifier}?",
                consequences=[
                    "The waves still to come are cancelled and every partner's access ends at once.",
                    "The people of each organisation that received it are notified, with your reason.",
                    "This cannot be undone.",
                ],
                summary=[("Reason", form.cleaned_data["reason"])],
                confirm_label="Withdraw the advisory",
                back_url=reverse("program_advisories:detail", args=[advisory.identifier]),
            )
        try:
            services.withdraw_advisory(actor=request.user, advisory=advisory, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            show_service_error(form, error)
        else:
            messages.success(request, f"{advisory.identifier} is withdrawn; partners are notified.")
            return redirect("program_advisories:detail", advisory.identifier)
    return render(request, "program/advisories/withdraw.html", {"form": form, "advisory": advisory})


@require_POST
@program_manager_view
def manager_assign(request, identifier):
    advisory = _advisory(identifier)
    if not selectors.is_assigned_manager(request.user, advisory):
        return _restricted(request, advisory)
    form = forms.AssignManagerForm(request.POST)
    manager = None
    if form.is_valid():
        manager = get_user_model().objects.filter(email__iexact=form.cleaned_data["email"]).first()
    try:
        if manager is None:
            raise ValidationError("No program manager has that email address.")
        services.assign_advisory_manager(actor=request.user, advisory=advisory, manager=manager)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{manager} is assigned to {advisory.identifier}.")
    return redirect("program_advisories:detail", advisory.identifier)


@require_GET
@program_manager_view
def wave_status(request, identifier, level):
    advisory = _advisory(identifier)
    if not selectors.can_view_content(request.user, advisory):
        return _restricted(request, advisory)
    wave = get_object_or_404(ReleaseWave, advisory=advisory, level=_level(level, LEVEL_SLUGS.values()))
    context = {"advisory": advisory, "wave": wave}
    if wave.status == WaveStatus.SCHEDULED:
        rows = selectors.release_preview(wave=wave)
        context["preview_at"] = timezone.now()
        context["recipients"] = [row for row in rows if row.receives]
        context["refused"] = [row for row in rows if not row.receives]
    else:
        deliveries = selectors.wave_deliveries(wave=wave)
        context["page"] = Paginator(deliveries, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
        context["progress"] = selectors.wave_progress(wave=wave)
    return render(request, "program/advisories/wave.html", context)


def _month(value: str | None) -> datetime:
    try:
        return datetime.strptime(value or "", "%Y-%m").replace(tzinfo=UTC)
    except ValueError:
        return timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@require_GET
@program_manager_view
def release_calendar(request):
    """Month view (UTC days) of every scheduled and released wave; titles only for advisories one may open."""
    start = _month(request.GET.get("month"))
    end = (start + timedelta(days=32)).replace(day=1)
    waves = list(selectors.waves_between(start=start, end=end))
    visible = selectors.content_visible_advisory_ids(request.user, [w.advisory for w in waves])
    by_day: dict[int, list] = {}
    for wave in waves:
        by_day.setdefault(wave.scheduled_at.day, []).append(wave)
    weeks = [
        [(day, by_day.get(day, [])) if day else (None, []) for day in week]
        for week in calendar.Calendar(firstweekday=0).monthdayscalendar(start.year, start.month)
    ]
    previous = (start - timedelta(days=1)).replace(day=1)
    context = {
        "month": start,
        "weeks": weeks,
        "visible": visible,
        "previous": f"{previous:%Y-%m}",
        "next": f"{end:%Y-%m}",
        "list_url": reverse("program_advisories:calendar_list"),
    }
    return render(request, "program/advisories/calendar.html", context)


@require_GET
@program_manager_view
def release_calendar_list(request):
    page = Paginator(selectors.upcoming_waves(), ADVISORIES_PER_PAGE).get_page(request.GET.get("page"))
    visible = selectors.content_visible_advisory_ids(request.user, [w.advisory for w in page])
    return render(request, "program/advisories/calendar_list.html", {"page": page, "visible": visible})


@require_POST
@program_manager_view
def detection_indicator_add(request, identifier):
    """Publish a detection indicator with the advisory (partners read them as STIX 2.1, advisories/stix/)."""
    advisory = _advisory(identifier)
    if not selectors.is_assigned_manager(request.user, advisory):
        return _restricted(request, advisory)
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
