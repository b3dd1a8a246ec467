"""Contracts: the program managers' pages (/program/contracts/) and the partners' agreements (/portal/agreements/).
Thin: reads through `compliance.selectors`, every change through `compliance.services`."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from compliance import selectors, services
from compliance.entitlements import partner_access
from compliance.forms import ContractVersionForm, SignAgreementForm
from compliance.models import ContractVersion, text_sha256
from core.http import client_ip, user_agent
from core.markdown import render_markdown
from core.roles import is_compliance_officer, is_program_manager
from partners.models import MemberRole, Partner

# Staff pages ---------------------------------------------------------------------------------------------------


def contracts_staff_view(view):
    """Program managers and compliance officers; 404 for partners (no staff page exists for them), 403 for other
    staff."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff:
            raise Http404("No such page.")
        if not (is_program_manager(request.user) or is_compliance_officer(request.user)):
            raise PermissionDenied("Only program managers and compliance officers see contracts.")
        return view(request, *args, **kwargs)

    return wrapper


@require_GET
@contracts_staff_view
def contract_list(request):
    now = timezone.now()
    current_ids = {v.pk for v in selectors.current_contract_versions(now).values()}
    return render(
        request,
        "compliance/contract_list.html",
        {
            "versions": selectors.contract_versions_overview(),
            "current_ids": current_ids,
            "now": now,
            "may_publish": is_program_manager(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
@contracts_staff_view
def contract_publish(request):
    if not is_program_manager(request.user):
        raise PermissionDenied("Only program managers publish contract versions.")
    now = timezone.now().replace(second=0, microsecond=0)
    if request.method == "POST":
        form = ContractVersionForm(request.POST)
        if form.is_valid():
            try:
                version = services.publish_contract_version(actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, f"{version} is published. It can no longer be changed.")
                return redirect("compliance:contract_version", version.pk)
    else:
        base_id = request.GET.get("from", "")
        base = ContractVersion.objects.filter(pk=int(base_id)).first() if base_id.isdigit() else None
        form = ContractVersionForm(initial=ContractVersionForm.initial_from(base, now))
    return render(request, "compliance/contract_publish.html", {"form": form})


@require_GET
@contracts_staff_view
def contract_version(request, pk):
    version = ContractVersion.objects.filter(pk=pk).first()
    if version is None:
        raise Http404("No such contract version.")
    return render(
        request,
        "compliance/contract_version.html",
        {
            "version": version,
            "html": render_markdown(version.text),
            "superseded": selectors.is_superseded(version, timezone.now()),
            "agreements": version.agreements.select_related("partner", "signed_by").order_by("-signed_at"),
            "may_publish": is_program_manager(request.user),
        },
    )


@require_GET
@contracts_staff_view
def signing_status(request):
    now = timezone.now()
    overview = selectors.signing_overview(at=now)
    versions = [standing.version for standing in overview[0].standings] if overview else []
    return render(
        request,
        "compliance/signing_status.html",
        {
            "now": now,
            "versions": versions,
            "overview": overview,
            "missing": [row for row in overview if row.missing],
            "expiring": sorted(
                ((row.partner, s) for row in overview for s in row.expiring), key=lambda item: item[1].covered_until
            ),
            "window_days": selectors.UPCOMING_EXPIRY_WINDOW.days,
        },
    )


@require_GET
@contracts_staff_view
def staff_agreement_record(request, pk):
    agreement = selectors.agreement_record(agreement_id=pk)
    if agreement is None:
        raise Http404("No such agreement.")
    return _render_record(request, agreement)


# Partner pages -------------------------------------------------------------------------------------------------


def partner_member_view(view):
    """Any active member of a partner organisation, whatever its current level (an organisation without access
    comes here to sign); 404 for everyone else, staff included."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        access = partner_access(request.user)
        if access is None:
            raise Http404("No such page.")
        return view(request, access, *args, **kwargs)

    return wrapper


def _is_partner_admin(access) -> bool:
    return access.membership.role == MemberRole.ADMIN


@require_GET
@partner_member_view
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
@partner_member_view
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
                _add_errors(form, error)
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
@partner_member_view
def partner_agreement_record(request, access, pk):
    agreement = selectors.partner_agreement_or_none(partner=access.partner, agreement_id=pk)
    if agreement is None:
        raise Http404("No such agreement.")
    return _render_record(request, agreement)


# Shared --------------------------------------------------------------------------------------------------------


def _render_record(request, agreement):
    """The printable record of a signed agreement, the same for the program and the partner."""
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


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)
