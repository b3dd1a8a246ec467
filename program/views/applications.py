"""Program managers review partner applications (/program/applications/): checklist, notes, approval, rejection."""

from functools import wraps

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from compliance import onboarding
from core.access import manager_view, run_service
from core.confirmation import confirmation_page, is_confirmed
from core.levels import AccessLevel
from partners import services as partner_services
from partners.models import DUE_DILIGENCE_CHECKLIST, PartnerApplication
from program import forms, selectors
from program.views.shared import PER_PAGE, querystring


@require_GET
@manager_view
def application_list(request):
    form = forms.ApplicationFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    applications = selectors.application_queue(
        status=filters.get("status", ""), country=filters.get("country", ""), search=filters.get("q", "")
    )
    page = Paginator(applications, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request, "program/application_list.html", {"form": form, "page": page, "querystring": querystring(request)}
    )


@require_GET
@manager_view
def application_detail(request, application_id):
    application = get_object_or_404(PartnerApplication.objects.select_related("reviewer", "partner"), pk=application_id)
    cap = onboarding.approval_level_cap(country=application.country)
    checklist = [(key, label, application.checklist.get(key)) for key, label in DUE_DILIGENCE_CHECKLIST.items()]
    context = {
        "application": application,
        "moves": {transition.name for transition in application.get_available_status_transitions()},
        "risk_flags": onboarding.application_risk_flags(application),
        "checklist": checklist,
        "notes": application.notes.select_related("author"),
        "level_cap": cap,
        "approve_form": forms.ApproveForm(initial={"assigned_level": min(cap, AccessLevel.STANDARD)}),
        "reject_form": forms.ReasonForm(),
        "note_form": forms.NoteForm(),
    }
    return render(request, "program/application_detail.html", context)


def _application_action(view):
    @require_POST
    @manager_view
    @wraps(view)
    def wrapper(request, application_id):
        application = get_object_or_404(PartnerApplication, pk=application_id)
        # A view returns a response only to ask for confirmation; otherwise back to the application.
        return view(request, application) or redirect("program:application_detail", application.pk)

    return wrapper


@_application_action
def application_start_review(request, application):
    run_service(
        request,
        lambda: partner_services.start_review(application=application, actor=request.user),
        "You are reviewing this application.",
    )


@_application_action
def application_checklist(request, application):
    done = {key: request.POST.get(key) == "on" for key in DUE_DILIGENCE_CHECKLIST}
    run_service(
        request,
        lambda: partner_services.update_checklist(application=application, actor=request.user, done=done),
        "Checklist saved.",
    )


@_application_action
def application_note(request, application):
    form = forms.NoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A note needs some text.")
        return
    run_service(
        request,
        lambda: partner_services.add_application_note(
            application=application, actor=request.user, body=form.cleaned_data["body"]
        ),
        "Note added.",
    )


@_application_action
def application_approve(request, application):
    form = forms.ApproveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the level to assign.")
        return
    run_service(
        request,
        lambda: onboarding.approve_application(
            application=application, actor=request.user, assigned_level=form.cleaned_data["assigned_level"]
        ),
        f"{application.legal_name} is approved; its first partner admin is invited.",
    )


@_application_action
def application_reject(request, application):
    form = forms.ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    if reason and not is_confirmed(request):
        return confirmation_page(
            request,
            title=f"Reject the application of {application.legal_name}?",
            consequences=["The decision is final; the applicant is told, with your reason."],
            summary=[("Reason", reason)],
            confirm_label="Reject the application",
            back_url=reverse("program:application_detail", args=[application.pk]),
        )
    run_service(
        request,
        lambda: partner_services.reject_application(application=application, actor=request.user, reason=reason),
        "The application is rejected; the applicant is told why.",
    )
