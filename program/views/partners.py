"""Staff pages of partner organisations (/program/partners/): the list, the record, standing, level, team."""

from functools import wraps

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core import mfa
from core.access import manager_view, program_staff_view, run_service
from core.confirmation import confirmation_page, is_confirmed
from core.http import client_ip
from core.levels import AccessLevel
from core.roles import PROGRAM_MANAGERS, has_staff_role
from partners import services as partner_services
from partners.models import Partner
from program import forms, selectors
from program.views.shared import PER_PAGE, querystring


@require_GET
@program_staff_view
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
    context = {"form": form, "page": page, "rows": rows, "querystring": querystring(request)}
    return render(request, "program/partner_list.html", context)


@require_GET
@program_staff_view
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
    @program_staff_view
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
        run_service(
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
    run_service(
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
    run_service(
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
    run_service(
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
        run_service(
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
    run_service(
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
    run_service(
        request,
        lambda: partner_services.update_team_settings(
            partner=partner,
            actor=request.user,
            seat_limit=form.cleaned_data["seat_limit"],
            email_domains=form.domain_list(),
        ),
        "Seats and email domains saved.",
    )
