"""Violations (/program/compliance/violations/): reported by program managers and compliance officers,
investigated, evidenced and enforced by compliance officers. Thin: reads through `compliance.selectors`, every
change through `compliance.services`."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from compliance import forms, selectors, services
from compliance.models import EnforcementKind, EvidenceFile, ViolationStatus
from core.access import officer_view, program_staff_view, refusal_text, run_service
from core.confirmation import confirmation_page, is_confirmed
from core.levels import AccessLevel
from core.roles import COMPLIANCE_OFFICERS, has_staff_role


def _form_errors(form) -> str:
    return " ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())


def _violation_or_404(violation_id: int):
    violation = selectors.violation_record(violation_id=violation_id)
    if violation is None:
        raise Http404("No such violation.")
    return violation


@require_GET
@program_staff_view
def violation_list(request):
    status = request.GET.get("status", "")
    if status not in ViolationStatus.values:
        status = ""
    return render(
        request,
        "compliance/violation_list.html",
        {
            "violations": selectors.violation_queue(status=status)[:200],
            "status": status,
            "statuses": ViolationStatus.choices,
            "is_officer": has_staff_role(request.user, COMPLIANCE_OFFICERS),
        },
    )


@require_http_methods(["GET", "POST"])
@program_staff_view
def violation_report(request):
    form = forms.ReportViolationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            violation = services.report_violation(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, refusal_text(error))
        else:
            messages.success(request, f"Violation {violation.pk} is reported against {violation.partner}.")
            if has_staff_role(request.user, COMPLIANCE_OFFICERS):
                return redirect("compliance:violation_detail", violation.pk)
            return redirect("compliance:violation_list")
    status = 400 if form.errors else 200
    return render(request, "compliance/violation_report.html", {"form": form}, status=status)


@require_GET
@officer_view
def violation_detail(request, violation_id):
    violation = _violation_or_404(violation_id)
    transitions = selectors.available_violation_transitions(violation)
    kinds = selectors.available_enforcement_kinds(violation)
    return render(
        request,
        "compliance/violation_detail.html",
        {
            "violation": violation,
            "steps": ViolationStatus.choices,
            "transition_form": forms.ViolationTransitionForm(allowed=transitions) if transitions else None,
            "note_form": forms.NoteForm(),
            "evidence_form": forms.EvidenceForm(),
            "enforcement_form": forms.EnforcementForm(allowed=kinds) if kinds else None,
            "is_substantiated": violation.status == ViolationStatus.SUBSTANTIATED,
        },
    )


TRANSITIONS = {
    "start_investigation": (services.start_investigation, "The investigation has started."),
    "substantiate": (services.substantiate_violation, "The violation is substantiated."),
    "dismiss": (services.dismiss_violation, "The violation is dismissed."),
    "close": (services.close_violation, "The violation is closed."),
}


@require_POST
@officer_view
def violation_transition(request, violation_id):
    violation = _violation_or_404(violation_id)
    form = forms.ViolationTransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
    else:
        service, success = TRANSITIONS[form.cleaned_data["transition"]]
        run_service(
            request,
            lambda: service(violation=violation, actor=request.user, note=form.cleaned_data["note"]),
            success,
        )
    return redirect("compliance:violation_detail", violation.pk)


@require_POST
@officer_view
def violation_note(request, violation_id):
    violation = _violation_or_404(violation_id)
    form = forms.NoteForm(request.POST)
    text = form.cleaned_data["text"] if form.is_valid() else ""
    run_service(
        request,
        lambda: services.add_investigation_note(violation=violation, actor=request.user, text=text),
        "The note is added.",
    )
    return redirect("compliance:violation_detail", violation.pk)


@require_POST
@officer_view
def violation_evidence(request, violation_id):
    violation = _violation_or_404(violation_id)
    form = forms.EvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
    else:
        run_service(
            request,
            lambda: services.attach_evidence(
                violation=violation,
                actor=request.user,
                uploaded_file=form.cleaned_data["file"],
                description=form.cleaned_data["description"],
            ),
            "The evidence is stored.",
        )
    return redirect("compliance:violation_detail", violation.pk)


@require_GET
@officer_view
def evidence_download(request, violation_id, evidence_id):
    evidence = EvidenceFile.objects.filter(violation_id=violation_id, pk=evidence_id).first()
    if evidence is None:
        raise Http404("No such evidence.")
    # Served as an attachment and never rendered: the type was recognised from the content when stored.
    response = FileResponse(
        evidence.file.open("rb"),
        as_attachment=True,
        filename=evidence.original_name,
        content_type=evidence.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@officer_view
def violation_enforce(request, violation_id):
    violation = _violation_or_404(violation_id)
    form = forms.EnforcementForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("compliance:violation_detail", violation.pk)
    data, actor = form.cleaned_data, request.user
    kind, reason, ends_at = data["kind"], data["reason"], data["ends_at"]
    if kind in CONFIRMED_KINDS and not is_confirmed(request):
        return _confirm_enforcement(request, violation, data)
    actions = {
        EnforcementKind.WARNING: lambda: services.issue_warning(violation=violation, actor=actor, reason=reason),
        EnforcementKind.LEVEL_CAP: lambda: services.impose_level_cap(
            violation=violation,
            actor=actor,
            cap_level=data["cap_level"] if data["cap_level"] is not None else -1,
            reason=reason,
            ends_at=ends_at,
        ),
        EnforcementKind.SUSPENSION: lambda: services.suspend_for_violation(
            violation=violation, actor=actor, reason=reason, until=ends_at
        ),
        EnforcementKind.REMOVAL: lambda: services.remove_for_violation(violation=violation, actor=actor, reason=reason),
        EnforcementKind.REINSTATEMENT: lambda: services.reinstate_for_violation(
            violation=violation, actor=actor, reason=reason
        ),
    }
    run_service(request, actions[kind], f"{EnforcementKind(kind).label} recorded against {violation.partner}.")
    return redirect("compliance:violation_detail", violation.pk)


# Actions that change the organisation's access at once are confirmed first.
CONFIRMED_KINDS = (EnforcementKind.LEVEL_CAP, EnforcementKind.SUSPENSION, EnforcementKind.REMOVAL)


def _confirm_enforcement(request, violation, data):
    kind, ends_at = data["kind"], data["ends_at"]
    until = f"until {ends_at:%Y-%m-%d %H:%M} UTC" if ends_at else "until someone ends it"
    consequences = {
        EnforcementKind.LEVEL_CAP: [
            f"{violation.partner}'s access is capped at "
            f"{AccessLevel(data['cap_level']).label if data['cap_level'] is not None else '?'} from now, {until}."
        ],
        EnforcementKind.SUSPENSION: [
            f"Every member of {violation.partner} loses access at once, {until}; API tokens stop working."
        ],
        EnforcementKind.REMOVAL: [
            f"{violation.partner} is removed for good: memberships deactivated, API tokens revoked, grants removed."
        ],
    }[kind]
    return confirmation_page(
        request,
        title=f"Record a {EnforcementKind(kind).label.lower()} against {violation.partner}?",
        consequences=[*consequences, "The organisation's admins are told, with your reason; they may appeal."],
        summary=[("Reason", data["reason"])],
        confirm_label=f"Record the {EnforcementKind(kind).label.lower()}",
        back_url=reverse("compliance:violation_detail", args=[violation.pk]),
    )
