"""Staff pages for onboarding and partners. Thin: forms in, services and selectors called, messages out."""

from datetime import UTC, datetime, time, timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from advisories.models import Advisory
from advisories.need_to_know import can_view_content
from compliance import onboarding
from core import mfa
from core.confirmation import confirmation_page, is_confirmed
from core.csv_export import streamed_csv
from core.http import client_ip
from core.levels import AccessLevel
from core.roles import COMPLIANCE_OFFICERS, PROGRAM_MANAGERS, has_staff_role
from partners import services as partner_services
from partners.models import DUE_DILIGENCE_CHECKLIST, Partner, PartnerApplication
from program import charts, forms, selectors
from program import dashboard as dashboard_reads

PER_PAGE = 25


def staff_view(*roles):
    """Staff pages: partners and other non-staff get 404 (no oracle); staff without one of `roles` get 403."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_staff:
                raise Http404("No such page.")
            if not any(has_staff_role(request.user, role) for role in roles):
                raise PermissionDenied("Your role does not include this page.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


manager_view = staff_view(PROGRAM_MANAGERS)
partner_staff_view = staff_view(PROGRAM_MANAGERS, COMPLIANCE_OFFICERS)


def _run(request, action, success: str) -> bool:
    """Call a service; show its refusal as a message (nothing changed) or the success message."""
    try:
        action()
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", None) or [str(error)]))
        return False
    messages.success(request, success)
    return True


def _querystring(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# Applications -----------------------------------------------------------------------------------------------------


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
        request, "program/application_list.html", {"form": form, "page": page, "querystring": _querystring(request)}
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
    _run(
        request,
        lambda: partner_services.start_review(application=application, actor=request.user),
        "You are reviewing this application.",
    )


@_application_action
def application_checklist(request, application):
    done = {key: request.POST.get(key) == "on" for key in DUE_DILIGENCE_CHECKLIST}
    _run(
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
    _run(
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
    _run(
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
    _run(
        request,
        lambda: partner_services.reject_application(application=application, actor=request.user, reason=reason),
        "The application is rejected; the applicant is told why.",
    )


# Partners ---------------------------------------------------------------------------------------------------------


@require_GET
@partner_staff_view
def partner_list(request):
    form = forms.PartnerFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    partners = selectors.partner_list(
        search=filters.get("q", ""),
        status=filters.get("status", ""),
        assigned_level=filters.get("assigned_level"),
        effective_level=filters.get("effective_level"),
        country=filters.get("country", ""),
    )
    page = Paginator(partners, PER_PAGE).get_page(request.GET.get("page"))
    rows = selectors.with_effective_levels(list(page.object_list))
    context = {"form": form, "page": page, "rows": rows, "querystring": _querystring(request)}
    return render(request, "program/partner_list.html", context)


@require_GET
@partner_staff_view
def partner_detail(request, partner_id):
    partner = get_object_or_404(Partner, pk=partner_id)
    context = {
        "record": selectors.partner_record(partner),
        "moves": {transition.name for transition in partner.get_available_status_transitions()},
        "suspend_form": forms.SuspendForm(),
        "reason_form": forms.ReasonForm(),
        "remove_form": forms.ReasonForm(auto_id="remove_%s"),
        "invite_form": forms.InviteForm(),
        "level_form": forms.LevelChangeForm(initial={"level": partner.assigned_level}, auto_id="level_%s"),
        "may_change_level": has_staff_role(request.user, PROGRAM_MANAGERS),
        "team_form": forms.TeamSettingsForm(
            initial={
                "seat_limit": partner.seat_limit,
                "email_domains": ", ".join(partner.domains.values_list("domain", flat=True)),
            }
        ),
    }
    return render(request, "program/partner_detail.html", context)


def _partner_action(view):
    @require_POST
    @partner_staff_view
    @wraps(view)
    def wrapper(request, partner_id):
        partner = get_object_or_404(Partner, pk=partner_id)
        # A view returns a response only to ask for confirmation; otherwise back to the organisation.
        return view(request, partner) or redirect("program:partner_detail", partner.pk)

    return wrapper


@require_POST
@manager_view
@mfa.reverification_required
def partner_member_reset_second_factor(request, partner_id, membership_id):
    """A member lost their authenticator and recovery codes: program managers only, with a reason (how the person's
    identity was confirmed), after confirming their own second factor (core.mfa.reset_second_factor)."""
    partner = get_object_or_404(Partner, pk=partner_id)
    membership = get_object_or_404(partner.memberships.select_related("user"), pk=membership_id)
    form = forms.ReasonForm(request.POST, prefix=f"reset-{membership.pk}")
    if not form.is_valid():
        messages.error(request, "Say why the second factor is reset, and how you confirmed who asked.")
    else:
        _run(
            request,
            lambda: mfa.reset_second_factor(
                user=membership.user,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                proof=mfa.session_proof(request),
                ip_address=client_ip(request),
            ),
            f"The second factor of {membership.user.email} is reset: their sessions ended, and they set up a new "
            "authenticator app at their next login.",
        )
    return redirect("program:partner_detail", partner.pk)


@_partner_action
def partner_suspend(request, partner):
    form = forms.SuspendForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
        return None
    if not is_confirmed(request):
        until = form.cleaned_data["until"]
        return confirmation_page(
            request,
            title=f"Suspend {partner}?",
            consequences=[
                "Every member loses access to every advisory at once; API tokens stop working.",
                f"The suspension ends at {until:%Y-%m-%d %H:%M} UTC."
                if until
                else "The suspension lasts until someone reinstates the organisation.",
                "The organisation's admins are told, with your reason.",
            ],
            summary=[("Reason", form.cleaned_data["reason"])],
            confirm_label="Suspend the organisation",
            back_url=reverse("program:partner_detail", args=[partner.pk]),
        )
    _run(
        request,
        lambda: partner_services.suspend_partner(
            partner=partner, actor=request.user, reason=form.cleaned_data["reason"], until=form.cleaned_data["until"]
        ),
        f"{partner} is suspended.",
    )


@_partner_action
def partner_reinstate(request, partner):
    form = forms.ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    _run(
        request,
        lambda: partner_services.reinstate_partner(partner=partner, actor=request.user, reason=reason),
        f"{partner} is reinstated.",
    )


@_partner_action
def partner_remove(request, partner):
    form = forms.ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    if reason and not is_confirmed(request):
        return confirmation_page(
            request,
            title=f"Remove {partner} from the program for good?",
            consequences=[
                "Removal is final: memberships are deactivated, API tokens revoked and every grant removed.",
                "The history is kept. The organisation's admins are told, with your reason.",
            ],
            summary=[("Reason", reason)],
            confirm_label="Remove for good",
            back_url=reverse("program:partner_detail", args=[partner.pk]),
        )
    _run(
        request,
        lambda: partner_services.remove_partner(partner=partner, actor=request.user, reason=reason),
        f"{partner} is removed from the program.",
    )


@require_POST
@manager_view
def partner_change_level(request, partner_id):
    partner = get_object_or_404(Partner, pk=partner_id)
    form = forms.LevelChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a level and give a reason.")
    else:
        level = form.cleaned_data["level"]
        _run(
            request,
            lambda: partner_services.change_assigned_level(
                partner=partner, level=level, actor=request.user, reason=form.cleaned_data["reason"]
            ),
            f"{partner} is now assigned {AccessLevel(level).label}.",
        )
    return redirect("program:partner_detail", partner.pk)


@_partner_action
def partner_invite(request, partner):
    form = forms.InviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a valid email address and role.")
        return
    _run(
        request,
        lambda: partner_services.invite_member(partner=partner, actor=request.user, **form.cleaned_data),
        f"Invitation sent to {form.cleaned_data['email']}.",
    )


@_partner_action
def partner_team_settings(request, partner):
    form = forms.TeamSettingsForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a seat limit and at least one email domain.")
        return
    _run(
        request,
        lambda: partner_services.update_team_settings(
            partner=partner,
            actor=request.user,
            seat_limit=form.cleaned_data["seat_limit"],
            email_domains=form.domain_list(),
        ),
        "Seats and email domains saved.",
    )


# Dashboard and reports --------------------------------------------------------------------------------------------


@require_GET
@partner_staff_view
def dashboard(request):
    """The program at a glance: organisations, the next 30 days, downloads, expiring agreements, the release
    pipeline, open compliance work. Every figure is read at one instant."""
    at = timezone.now()
    first_day, download_series = dashboard_reads.downloads_per_advisory(at=at)
    context = {
        "at": at,
        "status_chart": charts.bar_chart(dashboard_reads.partners_by_status()),
        "level_chart": charts.bar_chart(dashboard_reads.partners_by_effective_level(at)),
        "country_chart": charts.bar_chart(dashboard_reads.partners_by_country()),
        "upcoming": dashboard_reads.upcoming_releases(user=request.user, at=at),
        "downloads_since": first_day,
        "downloads": [(series, charts.sparkline_points(series.daily)) for series in download_series],
        "spark": {"width": charts.SPARK_WIDTH, "height": charts.SPARK_HEIGHT},
        "expiring": dashboard_reads.expiring_agreements(at),
        "pipeline": dashboard_reads.release_pipeline(at),
        "compliance": dashboard_reads.compliance_work(at),
    }
    return render(request, "program/dashboard.html", context)


def _report_filters(request) -> tuple[forms.ReportFilterForm, dict]:
    form = forms.ReportFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    since, until = data.get("since"), data.get("until")
    return form, {
        "advisory": data.get("advisory", ""),
        "partner_id": data["partner"].pk if data.get("partner") else None,
        "since": datetime.combine(since, time.min, tzinfo=UTC) if since else None,
        "until": datetime.combine(until + timedelta(days=1), time.min, tzinfo=UTC) if until else None,
    }


@require_GET
@partner_staff_view
def reports(request):
    """The report filters, what they match, and the CSV exports of the matching rows."""
    form, filters = _report_filters(request)
    named = Advisory.objects.filter(identifier__iexact=filters["advisory"]).first() if filters["advisory"] else None
    context = {
        "form": form,
        "named_advisory": named,
        "querystring": _querystring(request),
        "delivery_count": selectors.deliveries_report(**filters).count(),
        "download_count": selectors.download_events_report(**filters).count(),
    }
    return render(request, "program/reports.html", context)


def _timestamp(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


@require_GET
@partner_staff_view
def partners_csv(request):
    """The partner list as CSV, with the partner list's filters (one export, every page)."""
    form = forms.PartnerFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    partners = list(
        selectors.partner_list(
            search=filters.get("q", ""),
            status=filters.get("status", ""),
            assigned_level=filters.get("assigned_level"),
            effective_level=filters.get("effective_level"),
            country=filters.get("country", ""),
        )
    )
    rows = (
        (
            partner.pk,
            partner.legal_name,
            partner.trading_name,
            partner.country.code,
            partner.get_status_display(),
            partner.get_assigned_level_display(),
            AccessLevel(partner.effective_level).label,
            partner.active_members,
            _timestamp(partner.suspended_until),
        )
        for partner in selectors.with_effective_levels(partners)
    )
    header = (
        "id",
        "legal name",
        "trading name",
        "country",
        "status",
        "assigned level",
        "effective level",
        "active members",
        "suspended until (UTC)",
    )
    return streamed_csv(filename=f"forewarn-partners-{timezone.now():%Y%m%d}.csv", header=header, rows=rows)


CSV_CHUNK = 2000


@require_GET
@partner_staff_view
def deliveries_csv(request):
    _form, filters = _report_filters(request)
    rows = (
        (
            delivery.pk,
            delivery.advisory.identifier,
            delivery.partner.legal_name,
            delivery.partner.country.code,
            delivery.get_level_display(),
            _timestamp(delivery.delivered_at),
            _timestamp(delivery.notified_at),
        )
        for delivery in selectors.deliveries_report(**filters).iterator(chunk_size=CSV_CHUNK)
    )
    header = ("delivery", "advisory", "organisation", "country", "level", "delivered (UTC)", "notified (UTC)")
    return streamed_csv(filename=f"forewarn-deliveries-{timezone.now():%Y%m%d}.csv", header=header, rows=rows)


@require_GET
@partner_staff_view
def downloads_csv(request):
    _form, filters = _report_filters(request)
    rows = (
        (
            event.pk,
            _timestamp(event.created_at),
            event.advisory.identifier,
            event.artifact.name if event.artifact else "",
            event.get_kind_display(),
            event.partner.legal_name,
            event.user.email,
            event.delivery_id or "",
            event.ip_address or "",
            event.user_agent,
        )
        for event in selectors.download_events_report(**filters).iterator(chunk_size=CSV_CHUNK)
    )
    header = (
        "event",
        "time (UTC)",
        "advisory",
        "file",
        "kind",
        "organisation",
        "user",
        "delivery",
        "IP address",
        "user agent",
    )
    return streamed_csv(filename=f"forewarn-downloads-{timezone.now():%Y%m%d}.csv", header=header, rows=rows)


@require_GET
@partner_staff_view
def distribution_report(request, identifier):
    """A printable record of one advisory's distribution. Need-to-know: a program manager who may not open the
    advisory yet (not assigned, not released) is refused unless also a compliance officer."""
    advisory = get_object_or_404(Advisory, identifier=identifier)
    if not can_view_content(request.user, advisory, compliance_officers=True):
        return render(request, "program/advisories/restricted.html", {"advisory": advisory}, status=403)
    report = selectors.distribution_report(advisory)
    return render(request, "program/distribution_report.html", {"report": report, "at": timezone.now()})
