"""Periodic compliance reviews of partner organisations (/program/compliance/reviews/), for compliance officers."""

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from compliance import forms, selectors, services
from core.access import officer_view, run_service


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
        and run_service(
            request,
            lambda: services.complete_review(review=review, actor=request.user, **form.cleaned_data),
            f"The review of {review.partner} is recorded.",
        )
    )
    if recorded:
        return redirect("compliance:review_list")
    return render(request, "compliance/review_detail.html", {"review": review, "form": form})
