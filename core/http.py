"""The client address of a request, decided in one place: login lockout (django-axes), rate limits
(django-ratelimit), API throttling, audit events and download records all call `client_ip`."""

import ipaddress

from django.conf import settings


def _parse(address: str | None):
    try:
        return ipaddress.ip_address((address or "").strip())
    except ValueError:
        return None


def _in_trusted_network(ip) -> bool:
    return ip is not None and any(
        ip in ipaddress.ip_network(network, strict=False) for network in settings.TRUSTED_PROXIES
    )


def client_ip(request) -> str | None:
    """The address of the client that opened the connection to the outermost trusted reverse proxy.

    Without trusted proxies (`TRUSTED_PROXY_COUNT` 0 and `TRUSTED_PROXIES` empty) X-Forwarded-For is ignored and the
    address is the peer the web server saw (REMOTE_ADDR). Behind proxies, each one appends the address it saw to
    X-Forwarded-For, so the hops read from the right are: REMOTE_ADDR, then the header's entries right to left. The
    first `TRUSTED_PROXY_COUNT` hops, and any hop inside a `TRUSTED_PROXIES` network, are proxies; the client is the
    first hop after them. What a client writes into the header itself sits further left and is never reached.
    When `TRUSTED_PROXIES` is set, a peer outside it did not come through the proxy: its header is ignored."""
    remote = request.META.get("REMOTE_ADDR") or None
    proxy_count = settings.TRUSTED_PROXY_COUNT
    if proxy_count <= 0 and not settings.TRUSTED_PROXIES:
        return remote
    if settings.TRUSTED_PROXIES and not _in_trusted_network(_parse(remote)):
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    hops = [*forwarded, remote]
    # Position 0 is REMOTE_ADDR (the nearest proxy), then X-Forwarded-For from right to left.
    for position, address in enumerate(reversed(hops)):
        ip = _parse(address)
        if position < proxy_count or _in_trusted_network(ip):
            continue
        return str(ip) if ip is not None else remote
    # Every hop is a proxy (the request started inside the proxy tier): the furthest one is the client.
    furthest = _parse(hops[0])
    return str(furthest) if furthest is not None else remote


def user_agent(request) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:500]
