import ipaddress

from django.conf import settings


def _is_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(network, strict=False) for network in settings.TRUSTED_PROXIES)


def client_ip(request) -> str | None:
    """The client's address. Behind reverse proxies listed in TRUSTED_PROXIES (FOREWARN_TRUSTED_PROXIES), the
    right-most X-Forwarded-For address that is not one of them; a client cannot forge it, since each trusted proxy
    appends the address it saw. Otherwise the address the web server saw."""
    remote = request.META.get("REMOTE_ADDR") or None
    if remote is None or not settings.TRUSTED_PROXIES or not _is_trusted_proxy(remote):
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    for address in reversed(forwarded):
        if not _is_trusted_proxy(address):
            try:
                return str(ipaddress.ip_address(address))
            except ValueError:
                return remote
    return remote


def user_agent(request) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:500]
