"""Periodic compliance reviews: opened when due, completed by a compliance officer."""

from datetime import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from compliance.models import ComplianceReview, ReviewOutcome, ReviewStatus
from core.roles import require_compliance_officer
from core.services import record_audit_event
from partners.models import Partner, PartnerStatus


def review_interval() -> relativedelta:
    return relativedelta(months=settings.COMPLIANCE_REVIEW_INTERVAL_MONTHS)


def open_due_reviews(*, now: datetime | None = None) -> list[int]:
    """Open a review for every active organisation whose last review was completed (or, never reviewed, which
    joined) one review interval ago or more, unless one is open already (unique per organisation, so repeated or
    concurrent runs open each at most once). Returns the ids of the reviews opened."""
    at = now or timezone.now()
    last_completed = dict(
        ComplianceReview.objects.filter(status=ReviewStatus.COMPLETED)
        .values("partner_id")
        .annotate(last=Max("completed_at"))
        .values_list("partner_id", "last")
    )
    has_open = ComplianceReview.objects.filter(partner=OuterRef("pk"), status=ReviewStatus.OPEN)
    opened = []
    for partner_id, created_at in (
        Partner.objects.filter(status=PartnerStatus.ACTIVE).exclude(Exists(has_open)).values_list("pk", "created_at")
    ):
        due_at = last_completed.get(partner_id, created_at) + review_interval()
        if due_at > at:
            continue
        try:
            with transaction.atomic():
                review = ComplianceReview.objects.create(partner_id=partner_id, due_at=due_at, opened_at=at)
                record_audit_event(
                    actor=None, action="review.opened", target=review, details={"partner": partner_id, "due": due_at}
                )
        except IntegrityError:  # opened by a concurrent run
            continue
        opened.append(review.pk)
    return opened


def complete_review(*, review: ComplianceReview, actor, findings: str, outcome: str) -> ComplianceReview:
    """Record the findings and outcome of an open review. Compliance officers only; a completed review is
    refused (the next one opens after the interval)."""
    require_compliance_officer(actor)
    if not findings or not findings.strip():
        raise ValidationError({"findings": "Record the findings."})
    if outcome not in ReviewOutcome.values:
        raise ValidationError({"outcome": "Choose an outcome."})
    with transaction.atomic():
        review = ComplianceReview.objects.select_for_update().get(pk=review.pk)
        try:
            review.complete()
        except TransitionNotAllowed:
            raise ValidationError("This review is already completed.") from None
        review.reviewer = actor
        review.findings = findings.strip()
        review.outcome = outcome
        review.completed_at = timezone.now()
        review.save()
        record_audit_event(
            actor=actor,
            action="review.completed",
            target=review,
            details={"partner": review.partner_id, "outcome": outcome},
        )
    return review
