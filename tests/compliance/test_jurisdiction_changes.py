"""Jurisdiction policies managed by compliance officers: a preview of whom a new cap would change, the downgrade
exactly at the effective time, and the task that records the change per organisation and tells it once."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from advisories import services as advisory_services
from compliance import notifications, services, tasks
from compliance.entitlements import effective_level
from compliance.models import PolicyLevelChange
from core.levels import AccessLevel
from core.models import AuditEvent
from partners.models import PartnerStatus
from tests.factories import WaveFactory, acknowledge_handling_for_every_member


@pytest.fixture
def partners_in_de(make_partner):
    return {
        "early": make_partner(level=AccessLevel.EARLY, country="DE", legal_name="Early GmbH"),
        "standard": make_partner(level=AccessLevel.STANDARD, country="DE", legal_name="Standard GmbH"),
        "generic": make_partner(level=AccessLevel.GENERIC, country="DE", legal_name="Generic GmbH"),
        "removed": make_partner(level=AccessLevel.EARLY, country="DE", status=PartnerStatus.REMOVED),
        "elsewhere": make_partner(level=AccessLevel.EARLY, country="FR", legal_name="Early SAS"),
    }


def _set_policy(actor, effective_at, cap=AccessLevel.GENERIC, country="DE"):
    return services.set_jurisdiction_policy(
        actor=actor, country=country, cap_level=cap, effective_at=effective_at, reason="Mandatory reporting law"
    )


@pytest.mark.django_db
def test_the_preview_lists_exactly_the_organisations_whose_level_would_change_and_how(partners_in_de):
    changes = services.preview_jurisdiction_policy(
        country="DE", cap_level=AccessLevel.GENERIC, effective_at=timezone.now() + timedelta(days=1)
    )

    assert [(c.partner.legal_name, c.before, c.after) for c in changes] == [
        ("Early GmbH", AccessLevel.EARLY, AccessLevel.GENERIC),
        ("Standard GmbH", AccessLevel.STANDARD, AccessLevel.GENERIC),
    ]


@pytest.mark.django_db
def test_the_preview_stores_nothing(partners_in_de):
    services.preview_jurisdiction_policy(country="DE", cap_level=AccessLevel.NONE, effective_at=timezone.now())

    assert effective_level(partners_in_de["early"]) == AccessLevel.EARLY
    assert not AuditEvent.objects.filter(action__startswith="jurisdiction_policy").exists()


@pytest.mark.django_db
def test_the_preview_of_a_lifted_cap_shows_the_upgrade(partners_in_de, compliance_officer):
    _set_policy(compliance_officer, timezone.now() - timedelta(days=1))

    changes = services.preview_jurisdiction_policy(
        country="DE", cap_level=AccessLevel.EARLY, effective_at=timezone.now() + timedelta(days=1)
    )

    assert {(c.partner.legal_name, c.before, c.after) for c in changes} == {
        ("Early GmbH", AccessLevel.GENERIC, AccessLevel.EARLY),
        ("Standard GmbH", AccessLevel.GENERIC, AccessLevel.STANDARD),
    }


@pytest.mark.django_db
def test_a_jurisdiction_change_downgrades_exactly_at_its_effective_time_and_not_before(
    client, partners_in_de, compliance_officer, member_of, advisory
):
    partner = partners_in_de["early"]
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=timezone.now())
    advisory_services.release_due_waves()
    acknowledge_handling_for_every_member(advisory)
    client.force_login(member_of(partner))
    acknowledge_handling_for_every_member(advisory)
    poc = advisory.artifacts.get(level=AccessLevel.EARLY)
    download = reverse("advisories:artifact", args=[advisory.identifier, poc.pk])
    effective_at = timezone.now() + timedelta(minutes=10)

    _set_policy(compliance_officer, effective_at)

    with time_machine.travel(effective_at - timedelta(seconds=1), tick=False):
        assert effective_level(partner) == AccessLevel.EARLY
        assert client.get(download).status_code == 200
    with time_machine.travel(effective_at, tick=False):
        assert effective_level(partner) == AccessLevel.GENERIC
        assert client.get(download).status_code == 404


@pytest.mark.django_db
def test_the_task_records_each_change_once_at_the_effective_time_and_notifies_once(
    partners_in_de, compliance_officer, member_of, django_capture_on_commit_callbacks
):
    admin = member_of(partners_in_de["early"], role="admin")
    effective_at = timezone.now() + timedelta(minutes=10)
    policy = _set_policy(compliance_officer, effective_at)

    with time_machine.travel(effective_at - timedelta(seconds=1), tick=False):
        assert services.apply_due_jurisdiction_policies() == []
    with (
        time_machine.travel(effective_at + timedelta(seconds=5), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tasks.apply_due_jurisdiction_policies()
        tasks.apply_due_jurisdiction_policies()
        notifications.send_policy_change_notices(policy_id=policy.pk)

    changes = {
        (c.partner.legal_name, c.level_before, c.level_after) for c in PolicyLevelChange.objects.filter(policy=policy)
    }
    assert changes == {
        ("Early GmbH", AccessLevel.EARLY, AccessLevel.GENERIC),
        ("Standard GmbH", AccessLevel.STANDARD, AccessLevel.GENERIC),
    }
    policy.refresh_from_db()
    assert policy.applied_at is not None
    assert AuditEvent.objects.filter(action="jurisdiction_policy.applied", target_id=str(policy.pk)).count() == 1
    assert [message.to for message in mail.outbox] == [[admin.email]]
    assert "Early GmbH" in mail.outbox[0].subject and "to generic" in mail.outbox[0].subject


@pytest.mark.django_db
def test_program_managers_and_compliance_officers_may_set_policies_but_partners_may_not(
    partners_in_de, manager, member_of
):
    assert _set_policy(manager, timezone.now() + timedelta(days=1)).created_by == manager
    with pytest.raises(PermissionDenied, match="You may not do this"):
        _set_policy(member_of(partners_in_de["early"], role="admin"), timezone.now() + timedelta(days=2))


@pytest.mark.django_db
def test_the_beat_schedule_runs_the_policy_and_review_tasks(settings):
    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert {"compliance.tasks.apply_due_jurisdiction_policies", "compliance.tasks.open_due_reviews"} <= tasks_scheduled
