"""The partners' compliance pages (/portal/agreements/, /portal/appeals/): agreements to read and sign, and the
partner admins' appeals against enforcement actions. Thin: reads through `compliance.selectors`, every change
through `compliance.services`. The staff pages are in program/views/."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from compliance import forms, selectors, services
from compliance.forms import SignAgreementForm
from compliance.models import text_sha256
from core.access import member_view, partner_admin_view, refusal_text
from core.forms import show_service_error
from core.http import client_ip, user_agent
from core.markdown import render_markdown
from partners.models import MemberRole, Partner

# Agreements ----------------------------------------------------------------------------------------------------


def _is_partner_admin(access) -> bool:
    return access.membership.role == MemberRole.ADMIN


@require_GET
@member_view
def partner_agreements(request, access):
    (contracts,) = selectors.signing_overview(at=timezone.now(), partners=Partner.objects.filter(pk=access.partner.pk))
    return render(
        request,
        "compliance/partner_agreements.html",
        {
            "access": access,
            "standings": [s for s in contracts.standings if s.required or s.state != selectors.Standing.NOT_REQUIRED],
            "others": [s for s in contracts.standings if not s.required and s.state == selectors.Standing.NOT_REQUIRED],
            "agreements": selectors.agreements_of_partner(partner=access.partner),
            "may_sign": _is_partner_admin(access),
        },
    )


@require_http_methods(["GET", "POST"])
@member_view
def partner_sign(request, access, version_id):
    now = timezone.now()
    version = selectors.version_in_effect_or_none(version_id=version_id, at=now)
    if version is None:
        raise Http404("No such contract version.")
    may_sign = _is_partner_admin(access)
    superseded = selectors.is_superseded(version, now)
    form = SignAgreementForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if not may_sign:
            raise PermissionDenied("Only your organisation's partner admins can sign agreements.")
        if form.is_valid():
            try:
                agreement = services.sign_agreement(
                    user=request.user,
                    contract_version=version,
                    signer_name=form.cleaned_data["signer_name"],
                    signer_title=form.cleaned_data["signer_title"],
                    consent=form.cleaned_data["consent"],
                    shown_text_sha256=form.cleaned_data["text_sha256"],
                    ip_address=client_ip(request),
                    user_agent=user_agent(request),
                )
            except ValidationError as error:
                show_service_error(form, error)
            else:
                messages.success(request, f"{version} is signed for {access.partner}. Keep the record below.")
                return redirect("compliance:partner_agreement", agreement.pk)
        status = 400
    # The form's hidden field carries the hash of exactly the text rendered on this page; signing checks it.
    shown_text = version.text
    return render(
        request,
        "compliance/partner_sign.html",
        {
            "access": access,
            "version": version,
            "html": render_markdown(shown_text),
            "shown_sha256": text_sha256(shown_text),
            "form": form,
            "may_sign": may_sign and not superseded,
            "is_admin": may_sign,
            "superseded": superseded,
        },
        status=status,
    )


@require_GET
@member_view
def partner_agreement_record(request, access, pk):
    agreement = selectors.partner_agreement_or_none(partner=access.partner, agreement_id=pk)
    if agreement is None:
        raise Http404("No such agreement.")
    return render_agreement_record(request, agreement)


# Appeals (partner admins) --------------------------------------------------------------------------------------


def _not_an_admin(membership) -> str | None:
    return None if membership.role == MemberRole.ADMIN else "Only your organisation's partner admins file appeals."


# Active partner members only (everyone else, staff included, gets 404); of them only admins, whatever their
# organisation's standing (a suspended organisation may appeal), others are refused with a clear message.
appeals_admin_view = partner_admin_view(refusal=_not_an_admin, template="partners/message.html", title="Appeals")


@require_GET
@appeals_admin_view
def partner_appeals(request, membership):
    return render(
        request,
        "compliance/partner_appeals.html",
        {
            "partner": membership.partner,
            "actions": selectors.enforcement_actions_of_partner(partner=membership.partner),
        },
    )


@require_http_methods(["GET", "POST"])
@appeals_admin_view
def partner_appeal_file(request, membership, action_id):
    action = selectors.partner_enforcement_action_or_none(partner=membership.partner, action_id=action_id)
    if action is None:
        raise Http404("No such action.")
    form = forms.AppealForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.file_appeal(actor=request.user, action=action, statement=form.cleaned_data["statement"])
        except (ValidationError, PermissionDenied) as error:
            form.add_error(None, refusal_text(error))
        else:
            messages.success(request, "Your appeal is filed. A compliance officer will decide it.")
            return redirect("compliance:partner_appeals")
    return render(
        request,
        "compliance/partner_appeal_file.html",
        {"action": action, "form": form, "appeals": action.appeals.all()},
        status=400 if form.errors else 200,
    )


# Shared with the staff pages -----------------------------------------------------------------------------------


def render_agreement_record(request, agreement):
    """The printable record of a signed agreement, the same for the program (program/views/contracts.py) and
    the partner."""
    now = timezone.now()
    version = agreement.contract_version
    return render(
        request,
        "compliance/agreement_record.html",
        {
            "agreement": agreement,
            "version": version,
            "html": render_markdown(version.text),
            "text_matches": agreement.signed_text_sha256 == text_sha256(version.text),
            "valid_now": agreement.signed_at <= now < agreement.valid_until,
            "now": now,
        },
    )
