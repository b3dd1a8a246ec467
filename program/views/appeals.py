"""Compliance officers decide partners' appeals (/program/compliance/appeals/)."""

from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from compliance import forms, selectors, services
from compliance.models import EnforcementKind
from core.access import officer_view, run_service


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
        decided = run_service(
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
