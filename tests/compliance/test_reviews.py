"""Periodic reviews: the beat task opens a review for every active organisation once the interval since its last
review (or since it joined) has passed, at most one open per organisation; a reviewer records findings and an
outcome; open reviews past their grace period are overdue."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from compliance import selectors, services, tasks
from compliance.models import ComplianceReview, ReviewStatus
from core.models import AuditEvent
from partners.models import Partner, PartnerStatus
from tests.factories import ComplianceReviewFactory, PartnerFactory

YEAR = timedelta(days=366)


def _joined(days_ago, **fields):
    partner = PartnerFactory(**fields)
    Partner.objects.filter(pk=partner.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    return partner


@pytest.mark.django_db
def test_the_task_opens_a_review_for_each_active_organisation_due_and_only_once(settings):
    settings.COMPLIANCE_REVIEW_INTERVAL_MONTHS = 12
    due = _joined(400)
    _joined(100)  # joined recently: not due yet
    _joined(400, status=PartnerStatus.SUSPENDED)
    _joined(400, status=PartnerStatus.REMOVED)

    assert tasks.open_due_reviews() == 1
    assert tasks.open_due_reviews() == 0  # idempotent

    review = ComplianceReview.objects.get()
    assert (review.partner, review.status) == (due, ReviewStatus.OPEN)
    assert AuditEvent.objects.filter(action="review.opened", target_id=str(review.pk)).exists()


@pytest.mark.django_db
def test_the_next_review_falls_due_one_interval_after_the_last_was_completed(compliance_officer):
    partner = _joined(400)
    services.open_due_reviews()
    review = ComplianceReview.objects.get()
    services.complete_review(review=review, actor=compliance_officer, findings="All in order", outcome="satisfactory")

    assert services.open_due_reviews() == []
    with time_machine.travel(timezone.now() + YEAR, tick=False):
        opened = services.open_due_reviews()
    assert ComplianceReview.objects.get(pk=opened[0]).partner == partner


@pytest.mark.django_db
def test_the_review_interval_is_a_setting(settings):
    settings.COMPLIANCE_REVIEW_INTERVAL_MONTHS = 3
    _joined(100)

    assert len(services.open_due_reviews()) == 1


@pytest.mark.django_db
def test_a_reviewer_records_findings_and_an_outcome(compliance_officer):
    review = ComplianceReviewFactory()

    review = services.complete_review(
        review=review, actor=compliance_officer, findings="Two analysts left; seats reduced.", outcome="concerns"
    )

    assert (review.status, review.reviewer, review.outcome) == (ReviewStatus.COMPLETED, compliance_officer, "concerns")
    assert AuditEvent.objects.get(action="review.completed").details["outcome"] == "concerns"


@pytest.mark.django_db
def test_a_completed_review_cannot_be_completed_again(compliance_officer):
    review = services.complete_review(
        review=ComplianceReviewFactory(), actor=compliance_officer, findings="Fine", outcome="satisfactory"
    )

    with pytest.raises(ValidationError, match="This review is already completed"):
        services.complete_review(review=review, actor=compliance_officer, findings="Again", outcome="concerns")


@pytest.mark.django_db
@pytest.mark.parametrize(("findings", "outcome"), [("", "satisfactory"), ("Fine", "excellent")])
def test_a_review_without_findings_or_a_known_outcome_is_refused(findings, outcome, compliance_officer):
    with pytest.raises(ValidationError, match="Record the findings|Choose an outcome"):
        services.complete_review(
            review=ComplianceReviewFactory(), actor=compliance_officer, findings=findings, outcome=outcome
        )


@pytest.mark.django_db
def test_program_managers_may_not_complete_reviews(manager):
    with pytest.raises(PermissionDenied, match="Only compliance officers may do this"):
        services.complete_review(review=ComplianceReviewFactory(), actor=manager, findings="x", outcome="satisfactory")


@pytest.mark.django_db
def test_open_reviews_past_their_grace_period_are_overdue(settings):
    settings.COMPLIANCE_REVIEW_GRACE_DAYS = 30
    overdue = ComplianceReviewFactory(due_at=timezone.now() - timedelta(days=31))
    ComplianceReviewFactory(due_at=timezone.now() - timedelta(days=29))

    assert list(selectors.overdue_reviews(at=timezone.now())) == [overdue]
