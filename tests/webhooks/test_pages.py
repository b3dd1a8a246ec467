import pytest
from django.core import mail
from django.urls import reverse
from standardwebhooks import Webhook

from advisories.models import WebhookEndpoint
from core.models import AuditEvent
from tests.factories import ProgramManagerFactory

pytestmark = pytest.mark.django_db


def _endpoint_urls(endpoint):
    return {
        name: reverse(f"advisories:{name}", args=[endpoint.pk])
        for name in ("webhook_rotate", "webhook_test", "webhook_disable", "webhook_enable", "webhook_delete")
    }


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(client, org, receiver, django_capture_on_commit_callbacks):
    client.force_login(org.admin)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("advisories:webhooks"), {"url": receiver.url, "description": "SOAR"})

    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 200
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.secret in response.content.decode()
    assert response["Cache-Control"] == "private, no-store"
    assert endpoint.secret not in client.get(reverse("advisories:webhooks")).content.decode()
    assert endpoint.secret not in client.get(reverse("advisories:webhook", args=[endpoint.pk])).content.decode()
    assert AuditEvent.objects.filter(action="webhook_endpoint.created", actor=org.admin).exists()
    assert [message.to for message in mail.outbox] == [[org.admin.email]]


def test_a_private_address_is_refused_on_the_form_with_the_reason(client, org):
    client.force_login(org.admin)

    response = client.post(reverse("advisories:webhooks"), {"url": "https://169.254.169.254/latest/"})

    assert response.status_code == 200
    assert "non-public address" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_an_analyst_is_refused_every_webhook_page(client, org, endpoint):
    client.force_login(org.analyst)

    assert client.get(reverse("advisories:webhooks")).status_code == 403
    assert client.get(reverse("advisories:webhook", args=[endpoint.endpoint.pk])).status_code == 403
    for url in _endpoint_urls(endpoint.endpoint).values():
        assert client.post(url, {"confirmed": "yes"}).status_code == 403
    assert WebhookEndpoint.objects.get().is_active


def test_another_organisations_endpoint_is_not_found(client, other_org, endpoint, receiver):
    client.force_login(other_org.admin)

    assert client.get(reverse("advisories:webhook", args=[endpoint.endpoint.pk])).status_code == 404
    for url in _endpoint_urls(endpoint.endpoint).values():
        assert client.post(url, {"confirmed": "yes"}).status_code == 404
    assert WebhookEndpoint.objects.get().is_active
    assert receiver.requests == []


def test_staff_do_not_see_the_partner_webhook_pages(client, endpoint):
    client.force_login(ProgramManagerFactory())

    assert client.get(reverse("advisories:webhooks")).status_code == 404
    assert client.get(reverse("advisories:webhook", args=[endpoint.endpoint.pk])).status_code == 404


def test_the_test_button_sends_a_signed_test_event_shown_in_the_log(
    client, org, endpoint, receiver, django_capture_on_commit_callbacks
):
    client.force_login(org.admin)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("advisories:webhook_test", args=[endpoint.endpoint.pk]))

    assert response.status_code == 302
    [request] = receiver.requests
    assert Webhook(endpoint.secret).verify(request.body, request.headers)["type"] == "webhook.test"
    page = client.get(response["Location"]).content.decode()
    assert request.headers["webhook-id"] in page
    assert "HTTP 204" in page


def test_rotating_the_secret_asks_for_confirmation_then_shows_the_new_secret_once(client, org, endpoint):
    client.force_login(org.admin)
    url = reverse("advisories:webhook_rotate", args=[endpoint.endpoint.pk])

    asked = client.post(url)
    assert WebhookEndpoint.objects.get().secret == endpoint.secret
    rotated = client.post(url, {"confirmed": "yes"})

    new_secret = WebhookEndpoint.objects.get().secret
    assert "Rotate the secret" in asked.content.decode()
    assert new_secret != endpoint.secret
    assert new_secret in rotated.content.decode()
    assert rotated["Cache-Control"] == "private, no-store"
    assert AuditEvent.objects.filter(action="webhook_endpoint.secret_rotated").count() == 1


def test_disabling_and_deleting_ask_for_confirmation_and_are_audited(client, org, endpoint):
    client.force_login(org.admin)
    urls = _endpoint_urls(endpoint.endpoint)

    client.post(urls["webhook_disable"])
    assert WebhookEndpoint.objects.get().is_active
    client.post(urls["webhook_disable"], {"confirmed": "yes"})
    assert not WebhookEndpoint.objects.get().is_active
    client.post(urls["webhook_enable"])
    assert WebhookEndpoint.objects.get().is_active
    client.post(urls["webhook_delete"])
    assert WebhookEndpoint.objects.exists()
    response = client.post(urls["webhook_delete"], {"confirmed": "yes"})

    assert response["Location"] == reverse("advisories:webhooks")
    assert not WebhookEndpoint.objects.exists()
    assert list(
        AuditEvent.objects.filter(action__startswith="webhook_endpoint.")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == [
        "webhook_endpoint.created",
        "webhook_endpoint.disabled",
        "webhook_endpoint.enabled",
        "webhook_endpoint.deleted",
    ]


def test_the_navigation_offers_webhooks_to_admins_only(client, org):
    client.force_login(org.admin)
    assert reverse("advisories:webhooks") in client.get(reverse("advisories:dashboard")).content.decode()

    client.force_login(org.analyst)
    assert reverse("advisories:webhooks") not in client.get(reverse("advisories:dashboard")).content.decode()
