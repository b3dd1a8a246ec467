"""Release plans: schedule, move and cancel before release, all audited; a released wave is frozen; withdrawal
ends access at once and tells the partners who had received the advisory."""

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from advisories import services
from advisories.models import AdvisoryStatus, Delivery, Notice, NoticeKind, WaveStatus
from core.levels import AccessLevel
from core.models import AuditEvent
from tests.confirmation import CONFIRMED
from tests.factories import acknowledge_handling_for_every_member
from tests.program.conftest import as_input


@pytest.fixture
def planned(manager, hours_from_now):
    advisory = services.create_advisory(actor=manager, title="Planned", public_release_at=hours_from_now(3))
    services.save_document(actor=manager, advisory=advisory, level=1, title="Summary", body_markdown="Generic.")
    services.save_document(actor=manager, advisory=advisory, level=2, title="Details", body_markdown="Technical.")
    return services.set_release_plan(
        actor=manager,
        advisory=advisory,
        early_at=hours_from_now(1),
        standard_at=hours_from_now(2),
        public_release_at=hours_from_now(3),
    )


def _times(advisory):
    return {w.level: (w.scheduled_at, w.status) for w in advisory.waves.all()}


def _audit(action, advisory):
    return AuditEvent.objects.filter(action=action, target_id=str(advisory.pk))


@pytest.mark.django_db
def test_moving_a_scheduled_plan_changes_the_wave_times_and_is_audited(manager_client, planned, hours_from_now):
    response = manager_client.post(
        reverse("program_advisories:plan", args=[planned.identifier]),
        {
            "early_at": as_input(hours_from_now(5)),
            "standard_at": as_input(hours_from_now(6)),
            "public_release_at": as_input(hours_from_now(7)),
        },
    )

    assert response.status_code == 302
    planned.refresh_from_db()
    assert planned.public_release_at == hours_from_now(7)
    assert _times(planned)[AccessLevel.EARLY] == (hours_from_now(5), WaveStatus.SCHEDULED)
    [event] = _audit("release_plan.moved", planned)
    assert event.details["before"]["early"].startswith(hours_from_now(1).isoformat())
    assert event.details["after"]["early"].startswith(hours_from_now(5).isoformat())


@pytest.mark.django_db
def test_leaving_a_wave_out_cancels_it_and_giving_it_again_reschedules_it(manager, planned, hours_from_now):
    services.set_release_plan(
        actor=manager, advisory=planned, standard_at=hours_from_now(2), public_release_at=hours_from_now(3)
    )
    assert _times(planned)[AccessLevel.EARLY][1] == WaveStatus.CANCELLED

    services.set_release_plan(
        actor=manager,
        advisory=planned,
        early_at=hours_from_now(1),
        standard_at=hours_from_now(2),
        public_release_at=hours_from_now(3),
    )
    assert _times(planned)[AccessLevel.EARLY] == (hours_from_now(1), WaveStatus.SCHEDULED)


@pytest.mark.django_db
def test_cancelling_the_plan_before_release_returns_the_advisory_to_draft(manager_client, planned):
    response = manager_client.post(reverse("program_advisories:plan_cancel", args=[planned.identifier]), CONFIRMED)

    assert response.status_code == 302
    planned.refresh_from_db()
    assert planned.status == AdvisoryStatus.DRAFT
    assert {status for _, status in _times(planned).values()} == {WaveStatus.CANCELLED}
    assert _audit("release_plan.cancelled", planned).count() == 1


@pytest.mark.django_db
def test_a_cancelled_plan_never_releases(planned, hours_from_now, manager):
    services.cancel_release_plan(actor=manager, advisory=planned)

    with time_machine.travel(hours_from_now(4), tick=False):
        assert services.release_due_waves() == []


@pytest.mark.django_db
def test_a_released_wave_is_frozen_while_later_waves_can_still_move(manager, planned, hours_from_now, make_partner):
    make_partner(level=AccessLevel.EARLY)
    with time_machine.travel(hours_from_now(1), tick=False):
        services.release_due_waves()

        with pytest.raises(ValidationError, match="This wave has released; its time is frozen") as refused:
            services.set_release_plan(
                actor=manager,
                advisory=planned,
                early_at=hours_from_now(1.5),
                standard_at=hours_from_now(2),
                public_release_at=hours_from_now(3),
            )
        assert refused.value.message_dict == {"early_at": ["This wave has released; its time is frozen."]}

        services.set_release_plan(
            actor=manager,
            advisory=planned,
            early_at=hours_from_now(1),
            standard_at=hours_from_now(4),
            public_release_at=hours_from_now(5),
        )
        with pytest.raises(ValidationError, match="whose waves have not released"):
            services.cancel_release_plan(actor=manager, advisory=planned)
    assert _times(planned)[AccessLevel.STANDARD] == (hours_from_now(4), WaveStatus.SCHEDULED)


@pytest.mark.django_db
def test_released_content_is_frozen(manager, planned, hours_from_now, make_partner):
    make_partner(level=AccessLevel.EARLY)
    with time_machine.travel(hours_from_now(1), tick=False):
        services.release_due_waves()

    with pytest.raises(ValidationError, match="frozen"):
        services.save_document(actor=manager, advisory=planned, level=2, title="Changed", body_markdown="Changed.")
    assert planned.documents.get(level=2).body_markdown == "Technical."


@pytest.fixture
def released_to_early_partner(planned, hours_from_now, make_partner, member_of, django_capture_on_commit_callbacks):
    partner = make_partner(level=AccessLevel.EARLY)
    analyst = member_of(partner)
    with time_machine.travel(hours_from_now(1), tick=False), django_capture_on_commit_callbacks(execute=True):
        services.release_due_waves()
    mail.outbox.clear()
    return analyst


@pytest.mark.django_db
def test_withdrawal_ends_partner_access_at_once(manager_client, planned, released_to_early_partner):
    acknowledge_handling_for_every_member(planned)
    portal = Client()
    portal.force_login(released_to_early_partner)
    detail = reverse("advisories:detail", args=[planned.identifier])
    assert portal.get(detail).status_code == 200

    manager_client.post(
        reverse("program_advisories:withdraw", args=[planned.identifier]), {"reason": "Duplicate.", **CONFIRMED}
    )

    assert portal.get(detail).status_code == 404
    assert planned.identifier not in portal.get(reverse("advisories:list")).text


@pytest.mark.django_db
def test_withdrawal_cancels_the_waves_to_come(manager, planned, released_to_early_partner, hours_from_now):
    services.withdraw_advisory(actor=manager, advisory=planned, reason="Vendor disputes the finding.")

    with time_machine.travel(hours_from_now(4), tick=False):
        assert services.release_due_waves() == []
    assert Delivery.objects.filter(advisory=planned).count() == 1
    assert _times(planned)[AccessLevel.GENERIC][1] == WaveStatus.CANCELLED
    assert _audit("advisory.withdrawn", planned).get().details["reason"] == "Vendor disputes the finding."


@pytest.mark.django_db
def test_withdrawal_notifies_the_people_of_organisations_that_received_it(
    manager, planned, released_to_early_partner, make_partner, member_of, django_capture_on_commit_callbacks
):
    member_of(make_partner(level=AccessLevel.GENERIC))  # received nothing yet: not told

    with django_capture_on_commit_callbacks(execute=True):
        services.withdraw_advisory(actor=manager, advisory=planned, reason="Duplicate.")

    notice = Notice.objects.get(kind=NoticeKind.WITHDRAWN)
    assert notice.user == released_to_early_partner
    assert [message.to for message in mail.outbox] == [[released_to_early_partner.email]]
    assert "withdrawn" in mail.outbox[0].subject
    assert "Technical" not in mail.outbox[0].body


@pytest.mark.django_db
def test_files_of_a_withdrawn_advisory_cannot_be_downloaded(manager, planned, hours_from_now, make_partner, member_of):
    from django.core.files.uploadedfile import SimpleUploadedFile

    artifact = services.add_artifact(
        actor=manager,
        advisory=planned,
        level=AccessLevel.EARLY,
        name="PoC",
        description="",
        uploaded_file=SimpleUploadedFile("poc.py", b"print('poc')\n"),
    )
    analyst = member_of(make_partner(level=AccessLevel.EARLY))
    with time_machine.travel(hours_from_now(1), tick=False):
        services.release_due_waves()
    acknowledge_handling_for_every_member(planned)
    portal = Client()
    portal.force_login(analyst)
    url = reverse("advisories:artifact", args=[planned.identifier, artifact.pk])
    assert portal.get(url).status_code == 200

    services.withdraw_advisory(actor=manager, advisory=planned, reason="Wrong product.")

    assert portal.get(url).status_code == 404
