"""The production path: https to a host name, connected to the address that was checked, the certificate verified
for the host name. The "network" routes the checked public address to a TLS receiver on 127.0.0.1."""

import datetime
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import urllib3.util.connection
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from standardwebhooks import Webhook

from advisories.webhooks import services as webhook_services

pytestmark = pytest.mark.django_db

HOST = "hooks.kestrel.test"
PUBLIC_ADDRESS = "93.184.216.34"


def _certificate(tmp_path, host):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


@pytest.fixture
def tls_receiver(tmp_path, monkeypatch, settings):
    """A TLS receiver presenting a certificate for `HOST`; DNS answers the public address for it, and connections
    to that address reach the receiver. Records requests, the server name the client asked for, and where the
    client meant to connect."""
    cert_file, key_file = _certificate(tmp_path, HOST)
    seen = {"requests": [], "server_names": [], "connected_to": []}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            seen["requests"].append((dict(self.headers), body))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    context.sni_callback = lambda sock, name, ctx: seen["server_names"].append(name)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    local = server.server_address

    def getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC_ADDRESS, port))]

    def create_connection(address, *args, **kwargs):
        seen["connected_to"].append(address[0])
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(5)
        sock.connect(local)  # not socket.create_connection: it would ask the patched getaddrinfo
        return sock

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(urllib3.util.connection, "create_connection", create_connection)
    settings.WEBHOOK_CA_CERTS = str(cert_file)
    yield seen
    server.shutdown()
    server.server_close()


def test_an_https_event_goes_to_the_checked_address_with_the_host_name_verified(
    org, tls_receiver, django_capture_on_commit_callbacks
):
    endpoint, secret = webhook_services.create_webhook_endpoint(actor=org.admin, url=f"https://{HOST}/forewarn")

    with django_capture_on_commit_callbacks(execute=True):
        message = webhook_services.send_test_event(actor=org.admin, endpoint=endpoint)

    message.refresh_from_db()
    assert message.status == "delivered"
    assert tls_receiver["connected_to"] == [PUBLIC_ADDRESS]
    assert tls_receiver["server_names"] == [HOST]
    [(headers, body)] = tls_receiver["requests"]
    assert headers["Host"] == HOST
    assert Webhook(secret).verify(body, headers)["type"] == "webhook.test"


def test_a_certificate_for_another_host_fails_the_attempt(
    org, tls_receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    endpoint, _ = webhook_services.create_webhook_endpoint(actor=org.admin, url="https://other.kestrel.test/forewarn")

    with django_capture_on_commit_callbacks(execute=True):
        message = webhook_services.send_test_event(actor=org.admin, endpoint=endpoint)

    message.refresh_from_db()
    assert message.status == "failed"
    assert tls_receiver["requests"] == []
    assert "SSL" in message.attempts.get().error or "certificate" in message.attempts.get().error
