"""The protection status state machine, who may report, and the audit of every change (services and portal)."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm

from advisories import services as advisory_services
from advisories.models import AdvisoryStatus, ProtectionState, ProtectionStatus
from advisories.protection import services
from compliance.entitlements import partner_access
from core.models import AuditEvent
from partners import services as partner_services
from tests.advisories.protection.conftest import release

pytestmark = pytest.mark.django_db

NOT_STARTED, IN_PROGRESS, SHIPPED, NOT_APPLICABLE = (
    ProtectionState.NOT_STARTED,
    ProtectionState.IN_PROGRESS,
    ProtectionState.SHIPPED,
    ProtectionState.NOT_APPLICABLE,
)
SHIPPING = {"products": "Acme EDR 7.4.2", "signature_ids": "ACME-2026-0001"}


def report(access, advisory, state, **fields):
    return services.report_protection_status(access=access, advisory=advisory, state=state, **fields)


def bring_to(access, advisory, state):
    """Walk the allowed path from not started to `state`."""
    path = {
        NOT_STARTED: [],
        IN_PROGRESS: [IN_PROGRESS],
        SHIPPED: [IN_PROGRESS, SHIPPED],
        NOT_APPLICABLE: [NOT_APPLICABLE],
    }[state]
    status = None
    for step in path:
        status = report(access, advisory, step, **(SHIPPING if step == SHIPPED else {}))
    return status


# State machine ---------------------------------------------------------------------------------------------------


def test_status_goes_from_not_started_to_in_progress_to_shipped_when_reported_in_order(received, advisory):
    report(received, advisory, IN_PROGRESS)
    status = report(received, advisory, SHIPPED, **SHIPPING)

    status.refresh_from_db()
    assert status.state == SHIPPED
    assert status.shipped_at is not None
    assert status.products == "Acme EDR 7.4.2"
    assert status.updated_by == received.user


def test_status_ships_in_one_report_when_the_protection_is_ready_before_any_report(received, advisory, client):
    client.force_login(received.user)
    url = reverse("advisories:protection", args=[advisory.identifier])
    assert 'value="shipped"' in client.get(url).text

    response = client.post(url, {"state": SHIPPED, **SHIPPING})

    assert response.status_code == 302
    status = ProtectionStatus.objects.get(advisory=advisory, partner=received.partner)
    assert (status.state, status.products) == (SHIPPED, SHIPPING["products"])
    assert status.shipped_at is not None
    assert AuditEvent.objects.filter(action="protection.status_reported", details__to=SHIPPED).count() == 1


@pytest.mark.parametrize("start", [NOT_STARTED, IN_PROGRESS])
def test_status_becomes_not_applicable_when_reported_from_an_open_state(received, advisory, start):
    bring_to(received, advisory, start)

    status = report(received, advisory, NOT_APPLICABLE, notes="We do not ship an IPS.")

    assert ProtectionStatus.objects.get(pk=status.pk).state == NOT_APPLICABLE


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (IN_PROGRESS, NOT_STARTED),
        (SHIPPED, IN_PROGRESS),
        (SHIPPED, NOT_STARTED),
        (SHIPPED, NOT_APPLICABLE),
        (NOT_APPLICABLE, IN_PROGRESS),
        (NOT_APPLICABLE, SHIPPED),
        (NOT_APPLICABLE, NOT_STARTED),
    ],
)
def test_transition_is_refused_when_the_state_machine_does_not_allow_it(received, advisory, start, target):
    bring_to(received, advisory, start)

    with pytest.raises(ValidationError, match="A protection status cannot go from") as refusal:
        report(received, advisory, target, **SHIPPING)

    assert "cannot go from" in refusal.value.message_dict["state"][0]
    stored = ProtectionStatus.objects.filter(advisory=advisory, partner=received.partner).first()
    assert (stored.state if stored else NOT_STARTED) == start


def test_state_field_refuses_direct_assignment(received, advisory):
    status = report(received, advisory, IN_PROGRESS)

    with pytest.raises(AttributeError, match="Direct state modification is not allowed"):
        status.state = SHIPPED


def test_shipping_is_refused_when_no_product_or_signature_is_named(received, advisory):
    report(received, advisory, IN_PROGRESS)

    with pytest.raises(ValidationError, match=r"Name the product\(s\) and version") as refusal:
        report(received, advisory, SHIPPED)

    assert "products" in refusal.value.message_dict
    assert ProtectionStatus.objects.get().state == IN_PROGRESS


def test_shipping_is_refused_when_the_shipped_time_is_in_the_future(received, advisory):
    report(received, advisory, IN_PROGRESS)

    with pytest.raises(ValidationError, match="The shipped time cannot be in the future") as refusal:
        report(received, advisory, SHIPPED, shipped_at=timezone.now() + timedelta(hours=1), **SHIPPING)

    assert refusal.value.message_dict["shipped_at"] == ["The shipped time cannot be in the future."]


def test_shipping_is_refused_when_the_shipped_time_is_before_the_delivery(received, advisory):
    report(received, advisory, IN_PROGRESS)

    with pytest.raises(
        ValidationError, match="The shipped time cannot be before your organisation received the advisory"
    ) as refusal:
        report(received, advisory, SHIPPED, shipped_at=timezone.now() - timedelta(days=2), **SHIPPING)

    assert "before your organisation received" in refusal.value.message_dict["shipped_at"][0]


def test_shipped_time_can_be_given_in_the_past_after_the_delivery(received, advisory):
    report(received, advisory, IN_PROGRESS)
    shipped_at = timezone.now() - timedelta(seconds=1)
    received_at = advisory.deliveries.get().delivered_at
    shipped_at = max(shipped_at, received_at)

    status = report(received, advisory, SHIPPED, shipped_at=shipped_at, **SHIPPING)

    assert status.shipped_at == shipped_at


def test_shipped_time_cannot_change_once_reported(received, advisory):
    shipped = bring_to(received, advisory, SHIPPED)

    with pytest.raises(ValidationError, match="The shipped time is fixed once reported"):
        report(received, advisory, SHIPPED, shipped_at=shipped.shipped_at - timedelta(microseconds=1), **SHIPPING)


def test_details_stay_editable_when_the_status_is_final(received, advisory):
    bring_to(received, advisory, SHIPPED)

    status = report(received, advisory, SHIPPED, products="Acme EDR 7.4.3", signature_ids="ACME-2026-0002")

    assert ProtectionStatus.objects.get(pk=status.pk).products == "Acme EDR 7.4.3"


# Who may report ----------------------------------------------------------------------------------------------------


def test_reporting_is_refused_when_the_organisation_did_not_receive_the_advisory(outsider, advisory):
    _, user = outsider

    with pytest.raises(PermissionDenied, match="Only organisations that received this advisory may report on it"):
        report(partner_access(user), advisory, IN_PROGRESS)

    assert not ProtectionStatus.objects.exists()


def test_reporting_is_refused_when_the_receiving_organisation_is_suspended(received, advisory, manager):
    partner_services.suspend_partner(partner=received.partner, actor=manager, reason="Leak under investigation")

    with pytest.raises(PermissionDenied, match="Only organisations that received this advisory may report on it"):
        report(partner_access(received.user), advisory, IN_PROGRESS)


def test_reporting_is_refused_when_the_advisory_is_withdrawn(received, advisory, manager):
    assign_perm("advisories.edit_advisory", manager, advisory)
    advisory_services.withdraw_advisory(actor=manager, advisory=advisory, reason="Duplicate of an older advisory")
    advisory.refresh_from_db()
    assert advisory.status == AdvisoryStatus.WITHDRAWN

    with pytest.raises(PermissionDenied, match="Only organisations that received this advisory may report on it"):
        report(received, advisory, IN_PROGRESS)


# Audit -------------------------------------------------------------------------------------------------------------


def test_every_status_change_is_audited_with_its_states(received, advisory):
    report(received, advisory, IN_PROGRESS)
    report(received, advisory, SHIPPED, **SHIPPING)

    events = list(AuditEvent.objects.filter(action="protection.status_reported").order_by("id"))
    assert [(e.details["from"], e.details["to"]) for e in events] == [
        (NOT_STARTED, IN_PROGRESS),
        (IN_PROGRESS, SHIPPED),
    ]
    assert {e.actor for e in events} == {received.user}


def test_no_audit_event_is_written_when_nothing_changed(received, advisory):
    report(received, advisory, IN_PROGRESS, notes="Building the rule.")
    before = AuditEvent.objects.count()

    report(received, advisory, IN_PROGRESS, notes="Building the rule.")

    assert AuditEvent.objects.count() == before


def test_feedback_is_stored_and_audited(received, advisory):
    feedback = services.submit_protection_feedback(
        access=received, advisory=advisory, kind="false_positive", text="Rule 2 fires on backups."
    )

    assert feedback.partner == received.partner
    assert AuditEvent.objects.filter(action="protection.feedback_submitted", target_id=str(feedback.pk)).exists()


# Portal pages ------------------------------------------------------------------------------------------------------


def protection_url(advisory):
    return reverse("advisories:protection", args=[advisory.identifier])


def test_partner_reports_shipped_through_the_portal_page(client, received, advisory):
    client.force_login(received.user)

    client.post(protection_url(advisory), {"state": IN_PROGRESS})
    response = client.post(protection_url(advisory), {"state": SHIPPED, **SHIPPING})

    assert response.status_code == 302
    status = ProtectionStatus.objects.get(advisory=advisory, partner=received.partner)
    assert status.state == SHIPPED


def test_portal_offers_only_the_allowed_next_states(client, received, advisory):
    client.force_login(received.user)

    response = client.get(protection_url(advisory))

    choices = [value for value, _ in response.context["form"].fields["state"].choices]
    assert choices == [NOT_STARTED, IN_PROGRESS, SHIPPED, NOT_APPLICABLE]


def test_portal_refuses_a_transition_the_state_machine_does_not_allow(client, received, advisory):
    client.force_login(received.user)
    bring_to(received, advisory, IN_PROGRESS)

    response = client.post(protection_url(advisory), {"state": NOT_STARTED})

    assert response.status_code == 400
    assert response.context["form"].errors["state"]
    assert ProtectionStatus.objects.get().state == IN_PROGRESS


def test_portal_shows_the_service_refusal_beside_its_field(client, received, advisory):
    client.force_login(received.user)
    client.post(protection_url(advisory), {"state": IN_PROGRESS})

    response = client.post(protection_url(advisory), {"state": SHIPPED})

    assert response.status_code == 400
    assert "Name the product" in str(response.context["form"].errors["products"])


def test_portal_feedback_is_sent_with_the_status(client, received, advisory):
    client.force_login(received.user)

    client.post(
        protection_url(advisory),
        {"state": IN_PROGRESS, "feedback_kind": "question", "feedback_text": "Is version 6 affected?"},
    )

    assert advisory.protection_feedback.get().text == "Is version 6 affected?"


@pytest.mark.parametrize("method", ["get", "post"])
def test_portal_answers_404_when_the_organisation_did_not_receive_the_advisory(client, outsider, advisory, method):
    _, user = outsider
    client.force_login(user)

    response = getattr(client, method)(protection_url(advisory), {"state": IN_PROGRESS} if method == "post" else None)

    assert response.status_code == 404
    assert not ProtectionStatus.objects.exists()


def test_portal_asks_for_the_handling_acknowledgement_first(client, advisory, receiver):
    release(advisory)
    _, user = receiver
    client.force_login(user)

    response = client.get(protection_url(advisory))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("advisories:acknowledge", args=[advisory.identifier]))


def test_advisory_page_shows_the_protection_panel_with_the_current_status(client, received, advisory):
    report(received, advisory, IN_PROGRESS)
    client.force_login(received.user)

    response = client.get(reverse("advisories:detail", args=[advisory.identifier]))

    assert response.status_code == 200
    assert "Your protection status" in response.text
    assert "In progress" in response.text
    assert protection_url(advisory) in response.text


def test_reporting_late_is_still_possible_after_the_public_release(received, advisory):
    report(received, advisory, IN_PROGRESS)

    with time_machine.travel(advisory.public_release_at + timedelta(hours=1), tick=False):
        status = report(partner_access(received.user), advisory, SHIPPED, **SHIPPING)

    assert status.shipped_at > advisory.public_release_at
