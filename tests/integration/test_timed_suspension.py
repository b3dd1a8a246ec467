"""A timed suspension end to end: beat ticks `end_due_suspensions`, a real worker reinstates the partner on
PostgreSQL through Redis once the end time has passed, not before, and its members see advisories again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from compliance.entitlements import partner_access
from core.levels import AccessLevel
from core.models import AuditEvent
from partners.models import Partner, PartnerStatus
from partners.services import suspend_partner
from tests.integration.conftest import CELERY_RUN

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SUSPENSION_LENGTH = timedelta(seconds=4)
REINSTATEMENT_TIMEOUT_SECONDS = 30


def test_beat_ends_a_timed_suspension_when_it_is_due(request, start_celery, make_partner, member_of, manager):
    partner = make_partner(level=AccessLevel.EARLY)
    analyst = member_of(partner)
    until = timezone.now() + SUSPENSION_LENGTH
    suspend_partner(partner=partner, actor=manager, reason="Cooling-off period.", until=until)
    assert partner_access(analyst).level == AccessLevel.NONE

    request.node.stash[CELERY_RUN].environment["FOREWARN_SUSPENSION_CHECK_SECONDS"] = "1"
    run = start_celery()
    run.wait_until_releasing()
    run.wait_for(
        lambda: Partner.objects.get(pk=partner.pk).status == PartnerStatus.ACTIVE,
        timeout=REINSTATEMENT_TIMEOUT_SECONDS,
        what="the worker to end the suspension",
    )

    event = AuditEvent.objects.get(action="partner.reinstated", target_id=str(partner.pk))
    assert event.created_at >= until
    assert event.actor_label == "system"
    assert partner_access(analyst).level == AccessLevel.EARLY
