"""Contracts for program managers and compliance officers (/program/contracts/): versions, publishing (program
managers), signing status, signed agreements."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from compliance import selectors, services
from compliance.forms import ContractVersionForm
from compliance.models import ContractVersion
from compliance.views import render_agreement_record
from core.access import program_staff_view
from core.forms import show_service_error
from core.markdown import render_markdown
from core.roles import is_program_manager


@require_GET
@program_staff_view
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
@program_staff_view
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
                show_service_error(form, error)
            else:
                messages.success(request, f"{version} is published. It can no longer be changed.")
                return redirect("compliance:contract_version", version.pk)
    else:
        base_id = request.GET.get("from", "")
        base = ContractVersion.objects.filter(pk=int(base_id)).first() if base_id.isdigit() else None
        form = ContractVersionForm(initial=ContractVersionForm.initial_from(base, now))
    return render(request, "compliance/contract_publish.html", {"form": form})


@require_GET
@program_staff_view
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
@program_staff_view
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
@program_staff_view
def staff_agreement_record(request, pk):
    agreement = selectors.agreement_record(agreement_id=pk)
    if agreement is None:
        raise Http404("No such agreement.")
    return render_agreement_record(request, agreement)
