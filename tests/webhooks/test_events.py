import json
from datetime import timedelta

import pytest
from django.core import mail
from django.db import IntegrityError
from django.utils import timezone
from standardwebhooks import Webhook, WebhookVerificationError

from advisories import services as advisory_services
from advisories import tasks
from advisories.models import (
    Delivery,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookEventType,
    WebhookMessage,
    WebhookMessageStatus,
)
from advisories.webhooks import services as webhook_services
from core.levels import AccessLevel
from partners import services as partner_services
from tests.factories import WaveFactory

pytestmark = pytest.mark.django_db


def _release(advisory, level, capture):
    WaveFactory(advisory=advisory, level=level, scheduled_at=timezone.now())
    with capture(execute=True):
        advisory_services.release_due_waves()


def _verified(endpoint, request):
    return Webhook(endpoint.secret).verify(request.body, request.headers)


def test_a_delivery_arrives_as_one_event_signed_per_the_standard_webhooks_specification(
    advisory, endpoint, receiver, django_capture_on_commit_callbacks
):
    _release(advisory, AccessLevel.EARLY, django_capture_on_commit_callbacks)

    [request] = receiver.requests
    payload = _verified(endpoint, request)
    assert payload["type"] == "advisory.delivered"
    assert payload["data"]["advisory"] == advisory.identifier
    assert payload["data"]["level"] == "early"
    assert set(payload["data"]["links"]) == {"portal", "api", "csaf"}
    assert payload["data"]["links"]["api"].endswith(f"/api/v1/advisories/{advisory.identifier}/")
    assert request.headers["webhook-id"] == WebhookMessage.objects.get().webhook_id


def test_a_signature_made_with_another_secret_is_refused_by_the_library(
    advisory, endpoint, receiver, django_capture_on_commit_callbacks
):
    _release(advisory, AccessLevel.EARLY, django_capture_on_commit_callbacks)

    with pytest.raises(WebhookVerificationError, match="No matching signature found"):
        Webhook(webhook_services.new_webhook_secret()).verify(receiver.requests[0].body, receiver.requests[0].headers)


def test_an_embargoed_advisory_event_carries_no_title_cve_or_content(
    advisory, endpoint, receiver, django_capture_on_commit_callbacks
):
    _release(advisory, AccessLevel.EARLY, django_capture_on_commit_callbacks)

    body = receiver.requests[0].body.decode()
    assert advisory.title not in body
    assert advisory.cve_ids[0] not in body
    assert "technical" not in body and "Generic summary" not in body
    assert "title" not in json.loads(body)["data"]


def test_the_public_release_is_an_event_with_the_title_for_every_active_organisation(
    advisory, endpoint, other_org, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        webhook_services.create_webhook_endpoint(actor=other_org.admin, url=receiver.url)
    _release(advisory, AccessLevel.GENERIC, django_capture_on_commit_callbacks)

    published = [json.loads(r.body) for r in receiver.requests if b"advisory.published" in r.body]
    assert len(published) == 2
    assert {event["data"]["title"] for event in published} == {advisory.title}
    assert all(event["data"]["cve_ids"] == advisory.cve_ids for event in published)


def test_a_failing_receiver_gets_one_event_id_in_three_attempts_and_accepts_it_once(
    advisory, endpoint, receiver, django_capture_on_commit_callbacks
):
    receiver.plan = [500, 503]

    _release(advisory, AccessLevel.EARLY, django_capture_on_commit_callbacks)

    assert len(receiver.requests) == 3
    assert len({request.headers["webhook-id"] for request in receiver.requests}) == 1
    message = WebhookMessage.objects.get()
    assert message.status == WebhookMessageStatus.DELIVERED
    assert [(a.number, a.status_code) for a in WebhookAttempt.objects.order_by("number")] == [
        (1, 500),
        (2, 503),
        (3, 204),
    ]
    assert WebhookAttempt.objects.filter(status_code=500).get().error == "The endpoint answered HTTP 500."
    endpoint.endpoint.refresh_from_db()
    assert endpoint.endpoint.consecutive_failures == 0


def test_an_unreachable_receiver_is_logged_as_a_network_error(
    advisory, endpoint, receiver, django_capture_on_commit_callbacks, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    receiver.close()

    _release(advisory, AccessLevel.EARLY, django_capture_on_commit_callbacks)

    message = WebhookMessage.objects.get()
    assert message.status == WebhookMessageStatus.FAILED
    attempts = list(message.attempts.all())
    assert len(attempts) == 2
    assert all(attempt.status_code is None and "Connection" in attempt.error for attempt in attempts)


def test_an_event_fails_for_good_after_the_last_attempt(
    advisory, endpoint, receiver, django_capture_on_commit_callbacks, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 4
    receiver.plan = [500] * 10

    _release(advisory, AccessLevel.EARLY, django_capture_on_commit_callbacks)

    assert len(receiver.requests) == 4
    assert WebhookMessage.objects.get().status == WebhookMessageStatus.FAILED
    endpoint.endpoint.refresh_from_db()
    assert endpoint.endpoint.is_active


def test_an_endpoint_is_disabled_after_repeated_failures_and_its_admins_are_emailed(
    advisory, org, endpoint, receiver, django_capture_on_commit_callbacks, settings
):
    settings.WEBHOOK_FAILURE_LIMIT = 3
    receiver.plan = [500] * 10
    mail.outbox.clear()

    _release(advisory, AccessLevel.EARLY, django_capture_on_commit_callbacks)

    assert len(receiver.requests) == 3
    endpoint.endpoint.refresh_from_db()
    assert not endpoint.endpoint.is_active
    assert "3 failed attempts" in endpoint.endpoint.disabled_reason
    assert WebhookMessage.objects.get().status == WebhookMessageStatus.FAILED
    disabled = [m for m in mail.outbox if "disabled" in m.subject]
    assert [m.to for m in disabled] == [[org.admin.email]]
    assert receiver.url in disabled[0].body


def test_a_disabled_endpoint_receives_no_later_event(
    advisory, org, endpoint, receiver, django_capture_on_commit_callbacks
):
    webhook_services.disable_webhook_endpoint(actor=org.admin, endpoint=endpoint.endpoint)

    _release(advisory, AccessLevel.EARLY, django_capture_on_commit_callbacks)

    assert receiver.requests == []
    assert not WebhookMessage.objects.exists()


def test_a_retried_task_or_a_repeated_queueing_sends_nothing_twice(
    advisory, endpoint, receiver, django_capture_on_commit_callbacks
):
    _release(advisory, AccessLevel.EARLY, django_capture_on_commit_callbacks)
    message = WebhookMessage.objects.get()

    tasks.send_webhook_message(message.pk)
    with django_capture_on_commit_callbacks(execute=True):
        again = webhook_services.queue_delivery_events(list(Delivery.objects.values_list("pk", flat=True)))

    assert again == []
    assert len(receiver.requests) == 1
    assert WebhookMessage.objects.count() == 1
    assert message.attempts.count() == 1


def test_the_database_refuses_a_second_message_for_one_change(advisory, endpoint, django_capture_on_commit_callbacks):
    _release(advisory, AccessLevel.EARLY, django_capture_on_commit_callbacks)
    message = WebhookMessage.objects.get()

    with pytest.raises(IntegrityError, match="one_webhook_message_per_event"):
        WebhookMessage.objects.create(
            endpoint=message.endpoint,
            event_key=message.event_key,
            webhook_id="msg_other",
            event_type=message.event_type,
            payload=message.payload,
            created_at=timezone.now(),
        )


def test_a_withdrawal_is_one_event_to_the_organisations_holding_the_advisory_only(
    advisory, endpoint, other_org, receiver, assigned_manager, django_capture_on_commit_callbacks
):
    other_org.partner.assigned_level = AccessLevel.NONE  # it receives nothing of the advisory
    other_org.partner.save(update_fields=["assigned_level"])
    with django_capture_on_commit_callbacks(execute=True):
        other, _ = webhook_services.create_webhook_endpoint(actor=other_org.admin, url=receiver.url + "?org=2")
    _release(advisory, AccessLevel.EARLY, django_capture_on_commit_callbacks)
    receiver.requests.clear()

    with django_capture_on_commit_callbacks(execute=True):
        advisory_services.withdraw_advisory(actor=assigned_manager, advisory=advisory, reason="Duplicate")

    [request] = receiver.requests
    payload = _verified(endpoint.endpoint, request)
    assert payload["type"] == "advisory.withdrawn"
    assert payload["data"]["change"] == "advisory.withdrawn"
    assert not other.messages.exists()


def test_a_release_plan_change_of_a_held_advisory_is_an_update_event(
    advisory, endpoint, receiver, assigned_manager, django_capture_on_commit_callbacks
):
    _release(advisory, AccessLevel.EARLY, django_capture_on_commit_callbacks)
    receiver.requests.clear()
    early_at = advisory.waves.get().scheduled_at

    with django_capture_on_commit_callbacks(execute=True):
        advisory_services.set_release_plan(
            actor=assigned_manager,
            advisory=advisory,
            early_at=early_at,
            public_release_at=timezone.now() + timedelta(days=30),
        )

    [request] = receiver.requests
    payload = _verified(endpoint.endpoint, request)
    assert payload["type"] == WebhookEventType.UPDATED
    assert payload["data"]["change"] == "release_plan.moved"
    assert advisory.title not in request.body.decode()


def test_a_suspended_organisation_gets_no_events(
    advisory, org, endpoint, receiver, manager, django_capture_on_commit_callbacks
):
    partner_services.suspend_partner(partner=org.partner, actor=manager, reason="Leak under investigation")

    _release(advisory, AccessLevel.EARLY, django_capture_on_commit_callbacks)
    _release(advisory, AccessLevel.GENERIC, django_capture_on_commit_callbacks)

    assert receiver.requests == []
    assert not WebhookMessage.objects.exists()


def test_an_event_queued_before_the_organisation_is_removed_is_cancelled_without_a_request(
    advisory, org, endpoint, receiver, manager, django_capture_on_commit_callbacks
):
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=False) as release_callbacks:
        advisory_services.release_due_waves()
    with django_capture_on_commit_callbacks(execute=False) as queue_callbacks:
        for callback in release_callbacks:
            callback()
    message = WebhookMessage.objects.get()
    partner_services.remove_partner(partner=org.partner, actor=manager, reason="Contract terminated")

    for callback in queue_callbacks:
        callback()

    message.refresh_from_db()
    assert message.status == WebhookMessageStatus.CANCELLED
    assert receiver.requests == []


def test_after_a_rotation_events_verify_with_the_new_and_the_previous_secret_until_the_grace_ends(
    org, endpoint, receiver, django_capture_on_commit_callbacks, settings
):
    with django_capture_on_commit_callbacks(execute=True):
        rotated, new_secret = webhook_services.rotate_webhook_secret(actor=org.admin, endpoint=endpoint.endpoint)
        webhook_services.send_test_event(actor=org.admin, endpoint=rotated)
    request = receiver.requests[-1]
    assert Webhook(new_secret).verify(request.body, request.headers)["type"] == "webhook.test"
    assert Webhook(endpoint.secret).verify(request.body, request.headers)["type"] == "webhook.test"

    WebhookEndpoint.objects.filter(pk=rotated.pk).update(previous_secret_expires_at=timezone.now())
    rotated.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        webhook_services.send_test_event(actor=org.admin, endpoint=rotated)
    request = receiver.requests[-1]
    assert Webhook(new_secret).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError, match="No matching signature found"):
        Webhook(endpoint.secret).verify(request.body, request.headers)


def test_an_event_whose_task_was_lost_is_sent_once_by_the_stall_sweep(
    advisory, endpoint, receiver, django_capture_on_commit_callbacks
):
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=False) as release_callbacks:
        advisory_services.release_due_waves()
    with django_capture_on_commit_callbacks(execute=False):  # the events are queued; their task messages are lost
        for callback in release_callbacks:
            callback()
    later = timezone.now() + timedelta(minutes=21)

    assert webhook_services.requeue_stalled_webhook_messages() == 0
    assert webhook_services.requeue_stalled_webhook_messages(now=later) == 1
    assert webhook_services.requeue_stalled_webhook_messages(now=later) == 0

    [request] = receiver.requests
    assert _verified(endpoint.endpoint, request)["type"] == "advisory.delivered"
    assert WebhookMessage.objects.get().status == WebhookMessageStatus.DELIVERED
