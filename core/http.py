def client_ip(request) -> str | None:
    """The client address as the web server saw it (a reverse proxy must set REMOTE_ADDR correctly)."""
    return request.META.get("REMOTE_ADDR") or None


def user_agent(request) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:500]
