"""Compliance pages: violations, enforcement, appeals, jurisdiction policies and reviews for compliance officers
(/program/compliance/), and the partner admins' appeals (/portal/appeals/). Thin: reads through
`compliance.selectors`, every change through `compliance.services`."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from compliance import forms, selectors, services
from compliance.models import EnforcementKind, EvidenceFile, ViolationStatus
from core.confirmation import confirmation_page, is_confirmed
from core.levels import AccessLevel
from core.roles import COMPLIANCE_OFFICERS, PROGRAM_MANAGERS, has_staff_role
from partners.selectors import active_membership, admin_membership


def compliance_staff_view(*roles):
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


officer_view = compliance_staff_view(COMPLIANCE_OFFICERS)
reporter_view = compliance_staff_view(COMPLIANCE_OFFICERS, PROGRAM_MANAGERS)


def _refusal(error) -> str:
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        return " ".join(message for messages_ in error.message_dict.values() for message in messages_)
    return " ".join(getattr(error, "messages", None) or [str(error)])


def _run(request, action, success: str) -> bool:
    """Call a service; show its refusal as a message (nothing changed) or the success message."""
    try:
        action()
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _refusal(error))
        return False
    messages.success(request, success)
    return True


def _form_errors(form) -> str:
    return " ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())


def _violation_or_404(violation_id: int):
    violation = selectors.violation_record(violation_id=violation_id)
    if violation is None:
        raise Http404("No such violation.")
    return violation


# Violations ------------------------------------------------------------------------------------------------------


@require_GET
@reporter_view
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
@reporter_view
def violation_report(request):
    form = forms.ReportViolationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            violation = services.report_violation(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, _refusal(error))
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
        _run(
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
    _run(
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
        _run(
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
    _run(request, actions[kind], f"{EnforcementKind(kind).label} recorded against {violation.partner}.")
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


# Appeals (staff) -------------------------------------------------------------------------------------------------


@require_GET
@officer_view
def appeal_queue(request):
    return render(
        request,
        "compliance/appeal_queue.html",
        {
            "pending": selectors.appeal_queue(),
            "decided": selectors.appeal_queue(status="").exclude(status="filed")[:50],
        },
    )


@require_http_methods(["GET", "POST"])
@officer_view
def appeal_detail(request, appeal_id):
    appeal = selectors.appeal_record(appeal_id=appeal_id)
    if appeal is None:
        raise Http404("No such appeal.")
    # Removal is final: its appeal can only be upheld (the service refuses an overturn anyway).
    outcomes = ["uphold"] if appeal.action.kind == EnforcementKind.REMOVAL else ["uphold", "overturn"]
    form = forms.AppealDecisionForm(request.POST or None, allowed=outcomes)
    if request.method == "POST" and form.is_valid():
        overturn = form.cleaned_data["outcome"] == "overturn"
        decided = _run(
            request,
            lambda: services.decide_appeal(
                actor=request.user, appeal=appeal, overturn=overturn, decision=form.cleaned_data["decision"]
            ),
            "The appeal is overturned: the action's effect has ended." if overturn else "The appeal is upheld.",
        )
        if decided:
            return redirect("compliance:appeal_detail", appeal.pk)
    may_decide = bool(list(appeal.get_available_status_transitions()))
    return render(request, "compliance/appeal_detail.html", {"appeal": appeal, "form": form, "may_decide": may_decide})


# Jurisdiction policies -------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@officer_view
def policy_list(request):
    """Every policy version; a new one is previewed (who would change, how) and saved only once confirmed."""
    form = forms.JurisdictionPolicyForm(request.POST or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if request.POST.get("confirm") == "yes":
            try:
                policy = services.set_jurisdiction_policy(actor=request.user, **data)
            except (ValidationError, PermissionDenied) as error:
                form.add_error(None, _refusal(error))
            else:
                messages.success(request, f"Saved: {policy}.")
                return redirect("compliance:policy_list")
        preview = services.preview_jurisdiction_policy(
            country=data["country"], cap_level=data["cap_level"], effective_at=data["effective_at"]
        )
    return render(
        request,
        "compliance/policy_list.html",
        {"policies": selectors.jurisdiction_policies(), "form": form, "preview": preview, "now": timezone.now()},
        status=400 if form.errors else 200,
    )


# Reviews ---------------------------------------------------------------------------------------------------------


@require_GET
@officer_view
def review_list(request):
    now = timezone.now()
    overdue = list(selectors.overdue_reviews(at=now))
    overdue_ids = {review.pk for review in overdue}
    return render(
        request,
        "compliance/review_list.html",
        {
            "overdue": overdue,
            "open": [review for review in selectors.open_reviews() if review.pk not in overdue_ids],
            "completed": selectors.completed_reviews()[:50],
            "now": now,
        },
    )


@require_http_methods(["GET", "POST"])
@officer_view
def review_detail(request, review_id):
    review = selectors.review_record(review_id=review_id)
    if review is None:
        raise Http404("No such review.")
    form = forms.ReviewForm(request.POST or None)
    recorded = (
        request.method == "POST"
        and form.is_valid()
        and _run(
            request,
            lambda: services.complete_review(review=review, actor=request.user, **form.cleaned_data),
            f"The review of {review.partner} is recorded.",
        )
    )
    if recorded:
        return redirect("compliance:review_list")
    return render(request, "compliance/review_detail.html", {"review": review, "form": form})


# Partner admins: appeals -----------------------------------------------------------------------------------------


def partner_admin_view(view):
    """Active partner members only (everyone else, staff included, gets 404); of them only admins, whatever their
    organisation's standing (a suspended organisation may appeal), others are refused with a clear message."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if active_membership(request.user) is None:
            raise Http404("No such page.")
        membership = admin_membership(request.user)
        if membership is None:
            return render(
                request,
                "partners/message.html",
                {"title": "Appeals", "error": "Only your organisation's partner admins file appeals."},
                status=403,
            )
        return view(request, membership, *args, **kwargs)

    return wrapper


@require_GET
@partner_admin_view
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
@partner_admin_view
def partner_appeal_file(request, membership, action_id):
    action = selectors.partner_enforcement_action_or_none(partner=membership.partner, action_id=action_id)
    if action is None:
        raise Http404("No such action.")
    form = forms.AppealForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.file_appeal(actor=request.user, action=action, statement=form.cleaned_data["statement"])
        except (ValidationError, PermissionDenied) as error:
            form.add_error(None, _refusal(error))
        else:
            messages.success(request, "Your appeal is filed. A compliance officer will decide it.")
            return redirect("compliance:partner_appeals")
    return render(
        request,
        "compliance/partner_appeal_file.html",
        {"action": action, "form": form, "appeals": action.appeals.all()},
        status=400 if form.errors else 200,
    )
