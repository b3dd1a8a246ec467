"""The partner state machine (active <-> suspended; active | suspended -> removed), its notices and signal, timed
suspensions, and the immediate effect on the organisation's users."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from core.levels import AccessLevel
from core.models import AuditEvent
from partners import services, tasks
from partners.models import PartnerStatus
from partners.signals import standing_changed
from tests.factories import MembershipFactory, PartnerFactory, UserFactory


def _suspend(partner, actor):
    return services.suspend_partner(partner=partner, actor=actor, reason="Leak under investigation")


def _reinstate(partner, actor):
    return services.reinstate_partner(partner=partner, actor=actor, reason="Cleared")


def _remove(partner, actor):
    return services.remove_partner(partner=partner, actor=actor, reason="Sold advisories")


TRANSITIONS = {
    "suspend": (_suspend, [PartnerStatus.ACTIVE], PartnerStatus.SUSPENDED),
    "reinstate": (_reinstate, [PartnerStatus.SUSPENDED], PartnerStatus.ACTIVE),
    "remove": (_remove, [PartnerStatus.ACTIVE, PartnerStatus.SUSPENDED], PartnerStatus.REMOVED),
}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "source"), [(name, source) for name, (_, sources, _) in TRANSITIONS.items() for source in sources]
)
def test_each_partner_transition_is_allowed_from_its_source_states(name, source, manager):
    run, _, target = TRANSITIONS[name]
    partner = PartnerFactory(status=source)

    run(partner, manager)

    partner.refresh_from_db()
    assert partner.status == target
    assert AuditEvent.objects.filter(target_id=str(partner.pk)).last().details["to"] == target


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "state"),
    [
        (name, state)
        for name, (_, sources, _) in TRANSITIONS.items()
        for state in PartnerStatus.values
        if state not in sources
    ],
)
def test_each_partner_transition_is_refused_from_every_other_state_with_a_clear_message(name, state, manager):
    run, _, _ = TRANSITIONS[name]
    partner = PartnerFactory(status=state)

    with pytest.raises(ValidationError, match=f"A {state} organisation cannot be"):
        run(partner, manager)

    partner.refresh_from_db()
    assert partner.status == state
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("run", [_suspend, _remove])
def test_partner_users_and_staff_without_a_role_cannot_change_standing(run, team):
    for actor in (team.admin, UserFactory(is_staff=True)):
        with pytest.raises(PermissionDenied, match="You may not do this"):
            run(team.partner, actor)
    team.partner.refresh_from_db()
    assert team.partner.status == PartnerStatus.ACTIVE


@pytest.mark.django_db
def test_a_compliance_officer_may_suspend(team, compliance_officer):
    partner = _suspend(team.partner, compliance_officer)

    assert partner.status == PartnerStatus.SUSPENDED


@pytest.mark.django_db
@pytest.mark.parametrize("run", [_suspend, _reinstate, _remove])
def test_every_standing_change_needs_a_written_reason(run, manager):
    partner = PartnerFactory(status=PartnerStatus.SUSPENDED if run is _reinstate else PartnerStatus.ACTIVE)
    name = {_suspend: "suspend_partner", _reinstate: "reinstate_partner", _remove: "remove_partner"}[run]

    with pytest.raises(ValidationError, match="reason"):
        getattr(services, name)(partner=partner, actor=manager, reason="")


@pytest.mark.django_db
def test_a_standing_change_is_told_to_the_organisations_admins_only(team, manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _suspend(team.partner, manager)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["admin@kestrel.test"]
    assert "suspended" in mail.outbox[0].subject
    assert "Leak under investigation" in mail.outbox[0].body


@pytest.mark.django_db
def test_removal_is_told_to_the_admins_it_deactivates(team, manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _remove(team.partner, manager)

    assert [m.to for m in mail.outbox] == [["admin@kestrel.test"]]
    assert "removed" in mail.outbox[0].subject


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("runs", "expected"),
    [
        ([_suspend], PartnerStatus.SUSPENDED),
        ([_suspend, _reinstate], PartnerStatus.ACTIVE),
        ([_remove], PartnerStatus.REMOVED),
    ],
)
def test_every_standing_change_sends_standing_changed_after_commit(
    runs, expected, team, manager, django_capture_on_commit_callbacks
):
    received = []

    def receiver(sender, partner_id, new_status, **kwargs):
        received.append((partner_id, new_status))

    standing_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            for run in runs:
                run(team.partner, manager)
    finally:
        standing_changed.disconnect(receiver)

    assert received[-1] == (team.partner.pk, expected)
    assert len(received) == len(runs)


# The organisation's users are refused at once -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_suspended_organisations_users_are_refused_at_once(client, team, manager, advisory):
    client.force_login(team.analyst)
    assert client.get(reverse("advisories:list")).status_code == 200

    _suspend(team.partner, manager)  # no on-commit work runs: the refusal does not wait for it

    response = client.get(reverse("advisories:list"))
    assert response.status_code == 403
    assert "No access to advisories" in response.text


@pytest.mark.django_db
def test_a_suspended_organisations_admin_cannot_manage_the_team(client, team, manager):
    _suspend(team.partner, manager)
    client.force_login(team.admin)

    assert client.get(reverse("partners:team")).status_code == 403
    with pytest.raises(ValidationError, match="suspended organisation cannot gain members"):
        services.invite_member(partner=team.partner, actor=team.admin, email="x@kestrel.test", role="analyst")


@pytest.mark.django_db
def test_a_removed_organisations_users_are_refused_at_once(client, team, manager):
    client.force_login(team.admin)

    _remove(team.partner, manager)

    assert client.get(reverse("advisories:list")).status_code == 404
    assert client.get(reverse("partners:team")).status_code == 404


# Timed suspension -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_suspension_may_carry_an_end_time(team, manager):
    until = timezone.now() + timedelta(days=3)

    partner = services.suspend_partner(partner=team.partner, actor=manager, reason="Cooling off", until=until)

    assert partner.suspended_until == until
    assert AuditEvent.objects.get(action="partner.suspended").details["until"] == until.isoformat()


@pytest.mark.django_db
def test_a_suspension_ending_in_the_past_is_refused(team, manager):
    with pytest.raises(ValidationError, match="future"):
        services.suspend_partner(
            partner=team.partner, actor=manager, reason="x", until=timezone.now() - timedelta(minutes=1)
        )


@pytest.mark.django_db
def test_a_timed_suspension_is_not_ended_before_its_time(team, manager):
    services.suspend_partner(partner=team.partner, actor=manager, reason="x", until=timezone.now() + timedelta(hours=1))

    assert tasks.end_due_suspensions() == 0
    team.partner.refresh_from_db()
    assert team.partner.status == PartnerStatus.SUSPENDED


@pytest.mark.django_db
def test_the_beat_task_reinstates_a_partner_whose_suspension_has_ended(
    team, manager, django_capture_on_commit_callbacks
):
    until = timezone.now() + timedelta(hours=1)
    services.suspend_partner(partner=team.partner, actor=manager, reason="x", until=until)
    forever = PartnerFactory()
    services.suspend_partner(partner=forever, actor=manager, reason="Until further notice")

    with time_machine.travel(until + timedelta(seconds=1)), django_capture_on_commit_callbacks(execute=True):
        assert tasks.end_due_suspensions() == 1
        assert tasks.end_due_suspensions() == 0  # idempotent

    team.partner.refresh_from_db()
    forever.refresh_from_db()
    assert (team.partner.status, team.partner.suspended_until) == (PartnerStatus.ACTIVE, None)
    assert forever.status == PartnerStatus.SUSPENDED
    event = AuditEvent.objects.filter(action="partner.reinstated").get()
    assert (event.actor_label, event.details["reason"].startswith("The suspension ended")) == ("system", True)
    assert mail.outbox[-1].to == ["admin@kestrel.test"]


@pytest.mark.django_db
def test_reinstating_early_clears_the_end_time(team, manager):
    services.suspend_partner(partner=team.partner, actor=manager, reason="x", until=timezone.now() + timedelta(days=1))

    partner = _reinstate(team.partner, manager)

    assert partner.suspended_until is None


@pytest.mark.django_db
def test_the_beat_schedule_runs_the_suspension_task(settings):
    entries = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert "partners.tasks.end_due_suspensions" in entries


@pytest.mark.django_db
def test_a_deactivated_member_is_not_told(team, manager, django_capture_on_commit_callbacks):
    MembershipFactory(partner=team.partner, role="admin", is_active=False, user=UserFactory(email="old@kestrel.test"))

    with django_capture_on_commit_callbacks(execute=True):
        _suspend(team.partner, manager)

    assert mail.outbox[0].to == ["admin@kestrel.test"]


@pytest.mark.django_db
def test_a_reinstated_partner_receives_the_waves_it_missed_while_suspended(
    team, manager, advisory, django_capture_on_commit_callbacks
):
    from advisories import services as advisory_services
    from tests.factories import WaveFactory

    services.suspend_partner(partner=team.partner, actor=manager, reason="x")
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY)
    advisory_services.release_due_waves()
    assert not team.partner.deliveries.exists()

    with django_capture_on_commit_callbacks(execute=True):
        services.reinstate_partner(partner=team.partner, actor=manager, reason="Cleared")

    assert list(team.partner.deliveries.values_list("level", flat=True)) == [AccessLevel.EARLY]
    assert any(advisory.identifier in m.subject for m in mail.outbox)
