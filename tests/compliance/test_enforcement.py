"""Enforcement actions linked to a substantiated violation: warning, level cap, suspension (timed), removal,
reinstatement. Each is allowed and refused as the table says, audited, announced to the organisation's admins
and in force at once through the entitlement rule."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from advisories import services as advisory_services
from compliance import services
from compliance.entitlements import effective_level
from compliance.models import EnforcementAction, EnforcementKind, Violation, ViolationStatus
from core.levels import AccessLevel
from core.models import AuditEvent
from partners import tasks as partner_tasks
from partners.models import PartnerStatus
from tests.factories import WaveFactory, acknowledge_handling_for_every_member


def _release_early(advisory):
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=timezone.now())
    advisory_services.release_due_waves()
    acknowledge_handling_for_every_member(advisory)


def _download(artifact):
    return reverse("advisories:artifact", args=[artifact.advisory.identifier, artifact.pk])


def _warn(violation, actor):
    return services.issue_warning(violation=violation, actor=actor, reason="Shared the PoC internally too widely")


def _cap(violation, actor):
    return services.impose_level_cap(
        violation=violation, actor=actor, cap_level=AccessLevel.STANDARD, reason="No PoC for six months"
    )


def _suspend(violation, actor):
    return services.suspend_for_violation(violation=violation, actor=actor, reason="Leak of FWN-2026-0001")


def _remove(violation, actor):
    return services.remove_for_violation(violation=violation, actor=actor, reason="Sold advisories")


PUNITIVE = {"warning": _warn, "level_cap": _cap, "suspension": _suspend, "removal": _remove}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(PUNITIVE))
def test_each_action_is_taken_against_a_substantiated_violation_and_audited(
    kind, substantiated, compliance_officer, partner_admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        action = PUNITIVE[kind](substantiated, compliance_officer)

    assert (action.kind, action.violation, action.partner, action.created_by) == (
        kind,
        substantiated,
        substantiated.partner,
        compliance_officer,
    )
    event = AuditEvent.objects.get(action=f"enforcement.{kind}")
    assert (event.target_id, event.details["violation"]) == (str(action.pk), substantiated.pk)
    assert mail.outbox, "the organisation's admins are told"
    assert partner_admin.email in mail.outbox[-1].to
    assert action.reason in mail.outbox[-1].body


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(PUNITIVE))
@pytest.mark.parametrize(
    "state",
    [ViolationStatus.REPORTED, ViolationStatus.INVESTIGATING, ViolationStatus.DISMISSED, ViolationStatus.CLOSED],
)
def test_each_action_is_refused_unless_the_violation_is_substantiated(kind, state, substantiated, compliance_officer):
    Violation.objects.filter(pk=substantiated.pk).update(status=state)

    with pytest.raises(ValidationError, match="Only a substantiated violation can lead to"):
        PUNITIVE[kind](substantiated, compliance_officer)

    assert not EnforcementAction.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(PUNITIVE))
def test_each_action_is_refused_to_program_managers(kind, substantiated, manager):
    with pytest.raises(PermissionDenied, match="Only compliance officers may do this"):
        PUNITIVE[kind](substantiated, manager)

    assert not EnforcementAction.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(PUNITIVE))
def test_each_action_is_refused_against_a_removed_organisation(kind, substantiated, compliance_officer):
    _remove(substantiated, compliance_officer)

    with pytest.raises(ValidationError, match="The organisation is removed; no further action can be taken against it"):
        PUNITIVE[kind](substantiated, compliance_officer)

    assert EnforcementAction.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(PUNITIVE))
def test_each_action_is_refused_without_a_reason(kind, substantiated, compliance_officer):
    with pytest.raises(ValidationError, match="A written reason is required"):
        {
            "warning": lambda: services.issue_warning(violation=substantiated, actor=compliance_officer, reason=""),
            "level_cap": lambda: services.impose_level_cap(
                violation=substantiated, actor=compliance_officer, cap_level=AccessLevel.GENERIC, reason=" "
            ),
            "suspension": lambda: services.suspend_for_violation(
                violation=substantiated, actor=compliance_officer, reason=""
            ),
            "removal": lambda: services.remove_for_violation(
                violation=substantiated, actor=compliance_officer, reason=""
            ),
        }[kind]()


@pytest.mark.django_db
def test_a_warning_changes_no_access(substantiated, compliance_officer):
    _warn(substantiated, compliance_officer)

    assert effective_level(substantiated.partner) == AccessLevel.EARLY


@pytest.mark.django_db
@pytest.mark.parametrize("cap_level", [AccessLevel.EARLY, 9])
def test_a_cap_that_caps_nothing_is_refused(cap_level, substantiated, compliance_officer):
    with pytest.raises(ValidationError, match="A cap must be below early"):
        services.impose_level_cap(violation=substantiated, actor=compliance_officer, cap_level=cap_level, reason="x")


@pytest.mark.django_db
def test_a_cap_ending_in_the_past_is_refused(substantiated, compliance_officer):
    with pytest.raises(ValidationError, match="A cap must end in the future"):
        services.impose_level_cap(
            violation=substantiated,
            actor=compliance_officer,
            cap_level=AccessLevel.GENERIC,
            reason="x",
            ends_at=timezone.now() - timedelta(seconds=1),
        )


@pytest.mark.django_db
def test_a_cap_removes_poc_access_at_once_and_keeps_the_standard_documents(
    client, substantiated, compliance_officer, partner_analyst, advisory
):
    _release_early(advisory)
    client.force_login(partner_analyst)
    poc = advisory.artifacts.get(level=AccessLevel.EARLY)
    rule = advisory.artifacts.get(level=AccessLevel.STANDARD)
    assert client.get(_download(poc)).status_code == 200

    _cap(substantiated, compliance_officer)

    assert client.get(_download(poc)).status_code == 404
    assert client.get(_download(rule)).status_code == 200
    detail = client.get(reverse("advisories:detail", args=[advisory.identifier]))
    assert detail.status_code == 200
    assert "Detection rule" in detail.text


@pytest.mark.django_db
def test_a_timed_cap_ends_by_itself(substantiated, compliance_officer):
    ends_at = timezone.now() + timedelta(days=180)
    services.impose_level_cap(
        violation=substantiated, actor=compliance_officer, cap_level=AccessLevel.STANDARD, reason="x", ends_at=ends_at
    )

    assert effective_level(substantiated.partner, ends_at - timedelta(seconds=1)) == AccessLevel.STANDARD
    assert effective_level(substantiated.partner, ends_at) == AccessLevel.EARLY


@pytest.mark.django_db
def test_a_suspension_starting_at_t_refuses_a_download_at_t_plus_one_second_and_its_end_restores_access(
    client, substantiated, compliance_officer, partner_analyst, advisory, django_capture_on_commit_callbacks
):
    _release_early(advisory)
    client.force_login(partner_analyst)
    poc = advisory.artifacts.get(level=AccessLevel.EARLY)
    start = timezone.now() + timedelta(minutes=1)
    until = start + timedelta(minutes=20)  # within the session idle timeout

    with time_machine.travel(start, tick=False):
        action = services.suspend_for_violation(
            violation=substantiated, actor=compliance_officer, reason="Leak under investigation", until=until
        )
    with time_machine.travel(start + timedelta(seconds=1), tick=False):
        assert client.get(_download(poc)).status_code == 403
    with (
        time_machine.travel(until + timedelta(seconds=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert partner_tasks.end_due_suspensions() == 1
        assert client.get(_download(poc)).status_code == 200

    assert (action.starts_at, action.ends_at) == (start, until)
    substantiated.partner.refresh_from_db()
    assert substantiated.partner.status == PartnerStatus.ACTIVE


@pytest.mark.django_db
def test_a_suspension_of_an_organisation_not_active_is_refused(substantiated, compliance_officer):
    _suspend(substantiated, compliance_officer)

    with pytest.raises(ValidationError, match="A suspended organisation cannot be suspended"):
        _suspend(substantiated, compliance_officer)

    assert EnforcementAction.objects.filter(kind=EnforcementKind.SUSPENSION).count() == 1


@pytest.mark.django_db
def test_removal_is_final_and_ends_membership(substantiated, compliance_officer, partner_admin):
    _remove(substantiated, compliance_officer)

    substantiated.partner.refresh_from_db()
    assert substantiated.partner.status == PartnerStatus.REMOVED
    assert not partner_admin.membership.__class__.objects.filter(user=partner_admin, is_active=True).exists()
    with pytest.raises(ValidationError, match="The organisation is removed; no further action can be taken against it"):
        services.reinstate_for_violation(violation=substantiated, actor=compliance_officer, reason="Changed our mind")


@pytest.mark.django_db
def test_reinstatement_returns_a_suspended_organisation_and_ends_its_suspension(
    substantiated, compliance_officer, advisory
):
    suspension = _suspend(substantiated, compliance_officer)

    action = services.reinstate_for_violation(violation=substantiated, actor=compliance_officer, reason="Cleared")

    substantiated.partner.refresh_from_db()
    suspension.refresh_from_db()
    assert substantiated.partner.status == PartnerStatus.ACTIVE
    assert action.kind == EnforcementKind.REINSTATEMENT
    assert suspension.ends_at == action.starts_at
    assert AuditEvent.objects.filter(action="enforcement.reinstatement").exists()
    assert effective_level(substantiated.partner) == AccessLevel.EARLY


@pytest.mark.django_db
def test_reinstatement_of_an_active_organisation_is_refused(substantiated, compliance_officer):
    with pytest.raises(ValidationError, match="A active organisation cannot be reinstated"):
        services.reinstate_for_violation(violation=substantiated, actor=compliance_officer, reason="Nothing to do")

    assert not EnforcementAction.objects.exists()


@pytest.mark.django_db
def test_a_wave_released_during_a_suspension_delivers_nothing_to_the_organisation(
    substantiated, compliance_officer, advisory
):
    _suspend(substantiated, compliance_officer)

    _release_early(advisory)

    assert not advisory.deliveries.filter(partner=substantiated.partner).exists()


@pytest.mark.django_db
def test_the_database_refuses_a_second_removal_of_one_organisation(substantiated, compliance_officer):
    removal = _remove(substantiated, compliance_officer)

    with pytest.raises(IntegrityError, match="one_removal_per_partner|compliance_enforcementaction.partner_id"):
        EnforcementAction.objects.create(
            partner=removal.partner, kind=EnforcementKind.REMOVAL, starts_at=timezone.now(), reason="Again."
        )
