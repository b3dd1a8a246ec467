import socket

import pytest
from django.core.exceptions import ValidationError

from advisories.models import WebhookEndpoint
from advisories.webhooks import services as webhook_services

pytestmark = pytest.mark.django_db

PUBLIC_ADDRESS = "93.184.216.34"


@pytest.mark.parametrize(
    "url",
    [
        f"http://{PUBLIC_ADDRESS}/hook",  # not https
        f"ftp://{PUBLIC_ADDRESS}/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "http://127.0.0.2:8000/hook",  # only http://127.0.0.1 itself, and only under the test setting
        "https://10.1.2.3/hook",
        "https://172.16.0.1/hook",
        "https://192.168.1.10/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
        "https://[::1]/hook",
        "https://[fd00::1]/hook",
        "https://[fe80::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://224.0.0.1/hook",
        f"https://user:password@{PUBLIC_ADDRESS}/hook",
        "https:///hook",
    ],
)
def test_registration_refuses_an_address_that_is_not_public_https(org, url):
    with pytest.raises(
        ValidationError, match="may not carry a user name or password|needs a host|non-public address|must use https"
    ) as refusal:
        webhook_services.create_webhook_endpoint(actor=org.admin, url=url)

    assert "url" in refusal.value.message_dict
    assert not WebhookEndpoint.objects.exists()


def test_registration_accepts_a_public_https_address(org):
    endpoint, secret = webhook_services.create_webhook_endpoint(actor=org.admin, url=f"https://{PUBLIC_ADDRESS}/hook")

    assert endpoint.partner == org.partner
    assert secret.startswith("whsec_") and endpoint.secret == secret


def test_registration_refuses_the_loopback_receiver_outside_tests(org, receiver, settings):
    settings.WEBHOOK_ALLOW_LOOPBACK_HTTP = False

    with pytest.raises(ValidationError, match="Webhook URLs must use https"):
        webhook_services.create_webhook_endpoint(actor=org.admin, url=receiver.url)


def test_a_host_that_resolves_to_a_private_address_by_send_time_gets_no_request(
    org, monkeypatch, settings, django_capture_on_commit_callbacks
):
    lookups = []  # public at registration, private at every attempt (DNS rebinding)
    connections = []

    def getaddrinfo(host, port, *args, **kwargs):
        lookups.append(host)
        address = PUBLIC_ADDRESS if len(lookups) == 1 else "10.0.0.5"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", lambda *args, **kwargs: connections.append(args))
    endpoint, _ = webhook_services.create_webhook_endpoint(actor=org.admin, url="https://hooks.kestrel.test/forewarn")

    with django_capture_on_commit_callbacks(execute=True):
        message = webhook_services.send_test_event(actor=org.admin, endpoint=endpoint)

    message.refresh_from_db()
    assert message.status == "failed"
    assert message.attempt_count == settings.WEBHOOK_MAX_ATTEMPTS
    assert set(lookups) == {"hooks.kestrel.test"}
    attempt = message.attempts.first()
    assert attempt.status_code is None
    assert attempt.error.startswith("Refused: The host hooks.kestrel.test resolves to a private")
    assert connections == []


def test_sending_checks_the_address_again(org, endpoint, receiver, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOK_ALLOW_LOOPBACK_HTTP = False

    with django_capture_on_commit_callbacks(execute=True):
        message = webhook_services.send_test_event(actor=org.admin, endpoint=endpoint.endpoint)

    assert receiver.requests == []
    assert message.attempts.first().error == "Refused: Webhook URLs must use https."
