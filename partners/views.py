"""Public onboarding pages (application, email confirmation, invitation) and the partner admins' team pages."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from core.access import partner_admin_view, run_service
from core.confirmation import confirmation_page, is_confirmed
from core.forms import show_service_error
from core.http import client_ip
from partners import selectors, services
from partners.forms import AcceptInvitationForm, ApplicationForm, InviteForm


def _application_rate(group, request):
    return settings.APPLICATION_RATE


@ratelimit(key="ip", rate=_application_rate, method="POST", block=False)
def apply(request):
    form = ApplicationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if request.limited:
            form.add_error(None, "Too many applications from your network. Please try again later.")
            return render(request, "partners/apply.html", {"form": form}, status=429)
        if form.is_valid():
            try:
                services.submit_application(
                    data=form.cleaned_data, email_domains=form.domain_list(), ip_address=client_ip(request)
                )
            except services.DuplicateApplication:
                # Answered like a success: the applicant learns why by email, a stranger learns nothing.
                return redirect("partners:application_sent")
            except ValidationError as error:
                show_service_error(form, error)
            else:
                return redirect("partners:application_sent")
    return render(request, "partners/apply.html", {"form": form}, status=400 if form.errors else 200)


def application_sent(request):
    return render(request, "partners/application_sent.html")


def verify_application(request, token):
    """GET shows a button, POST confirms: mail scanners that fetch links do not confirm on the applicant's behalf."""
    if request.method == "POST":
        try:
            application = services.verify_application_email(token=token)
        except ValidationError as error:
            return render(
                request, "partners/message.html", {"title": "Confirmation failed", "error": error}, status=400
            )
        return render(request, "partners/application_verified.html", {"application": application})
    return render(request, "partners/verify_application.html")


def accept_invitation(request, token):
    """The invitee chooses a password; on success they are logged in and land in the portal."""
    try:
        invitation = services.invitation_from_token(token)
    except ValidationError as error:
        return render(request, "partners/message.html", {"title": "Invitation", "error": error}, status=400)
    form = AcceptInvitationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.accept_invitation(
                token=token, password=form.cleaned_data["password"], ip_address=client_ip(request)
            )
        except ValidationError as error:
            show_service_error(form, error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome to Forewarn, {user.email}.")
            return redirect("advisories:dashboard")
    status = 400 if form.errors else 200
    return render(request, "partners/accept_invitation.html", {"form": form, "invitation": invitation}, status=status)


# Team pages: only the admins of an active organisation manage its team; other members are told why.
team_admin_view = partner_admin_view(refusal=selectors.team_refusal, template="partners/message.html", title="Team")


@team_admin_view
def team(request, membership):
    partner = membership.partner
    form = InviteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invite_member(partner=partner, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_service_error(form, error)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("partners:team")
    context = {
        "partner": partner,
        "members": selectors.team_members(partner),
        "invitations": selectors.pending_invitations(partner),
        "seats_used": selectors.seats_used(partner),
        "form": form,
        "now": timezone.now(),
    }
    return render(request, "partners/team.html", context, status=400 if form.errors else 200)


@require_POST
@team_admin_view
def deactivate_member(request, membership, membership_id):
    colleague = get_object_or_404(membership.partner.memberships.select_related("user"), pk=membership_id)
    if not is_confirmed(request):
        return confirmation_page(
            request,
            title=f"Deactivate {colleague.user.email}?",
            consequences=[
                f"{colleague.user.email} can no longer sign in to {membership.partner}; their seat is freed.",
                "API tokens they created stop working.",
            ],
            confirm_label="Deactivate",
            back_url=reverse("partners:team"),
        )
    run_service(
        request,
        lambda: services.deactivate_member(membership=colleague, actor=request.user),
        f"{colleague.user.email} can no longer sign in to your organisation.",
    )
    return redirect("partners:team")


@require_POST
@team_admin_view
def revoke_invitation(request, membership, invitation_id):
    invitation = get_object_or_404(membership.partner.invitations, pk=invitation_id)
    if not is_confirmed(request):
        return confirmation_page(
            request,
            title=f"Withdraw the invitation of {invitation.email}?",
            consequences=["The invitation link stops working; you can invite the person again later."],
            confirm_label="Withdraw the invitation",
            back_url=reverse("partners:team"),
        )
    run_service(
        request,
        lambda: services.revoke_invitation(invitation=invitation, actor=request.user),
        f"The invitation of {invitation.email} is withdrawn.",
    )
    return redirect("partners:team")
