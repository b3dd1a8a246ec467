"""The HTTP side of webhooks: which addresses may receive them, and one signed POST.

Server-side request forgery is refused twice: when an endpoint is registered and before every attempt, the host is
resolved and every address it resolves to must be public (not private, loopback, link-local, shared or reserved).
The request then connects to the address that was checked (the host name still goes in the TLS server name and
the Host header), so a DNS answer that changes between the check and the connection cannot redirect it.
Redirects are never followed."""

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.core.exceptions import ValidationError

USER_AGENT = "Forewarn-Webhooks/1"


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    duration_ms: int
    error: str

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _loopback_allowed(scheme: str, host: str) -> bool:
    # Tests run a receiver on http://127.0.0.1 (settings.WEBHOOK_ALLOW_LOOPBACK_HTTP, off outside tests).
    return settings.WEBHOOK_ALLOW_LOOPBACK_HTTP and scheme == "http" and host == "127.0.0.1"


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve_target(url: str) -> Target:
    """The checked target of a webhook URL: https only (no user name or password in it), a host that resolves only
    to public addresses. Raises ValidationError saying why not."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationError("This is not a valid URL.") from None
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if not host:
        raise ValidationError("The URL needs a host.")
    if parts.username or parts.password:
        raise ValidationError("The URL may not carry a user name or password.")
    loopback = _loopback_allowed(scheme, host)
    if scheme != "https" and not loopback:
        raise ValidationError("Webhook URLs must use https.")
    port = port or (443 if scheme == "https" else 80)
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}
    except (socket.gaierror, UnicodeError):
        raise ValidationError(f"The host {host} does not resolve.") from None
    if not loopback and not all(_is_public(address) for address in addresses):
        raise ValidationError(
            f"The host {host} resolves to a private, loopback or otherwise non-public address; webhooks are only "
            "sent to public addresses."
        )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=scheme, host=host, port=port, path=path, address=sorted(addresses)[0])


def post(url: str, *, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST the body to the URL, checked again first. Never raises for a network problem: the outcome carries it."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = resolve_target(url)
    except ValidationError as refusal:
        return Outcome(status_code=None, duration_ms=elapsed(), error=f"Refused: {' '.join(refusal.messages)}"[:300])
    timeout = urllib3.Timeout(connect=settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS, read=settings.WEBHOOK_TIMEOUT_SECONDS)
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            timeout=timeout,
            retries=False,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=settings.WEBHOOK_CA_CERTS or None,
        )
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, timeout=timeout, retries=False)
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    try:
        with pool:
            response = pool.urlopen(
                "POST",
                target.path,
                body=body,
                headers={
                    **headers,
                    "Host": host_header,
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                },
                redirect=False,
                preload_content=False,
                assert_same_host=False,
            )
            status = response.status
            response.release_conn()
    except (urllib3.exceptions.HTTPError, OSError) as error:
        return Outcome(status_code=None, duration_ms=elapsed(), error=f"{type(error).__name__}: {error}"[:300])
    error = "" if 200 <= status < 300 else f"The endpoint answered HTTP {status}."
    return Outcome(status_code=status, duration_ms=elapsed(), error=error)
