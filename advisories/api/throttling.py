import logging
import math
import time

from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from compliance.entitlements import PartnerAccess
from core.http import client_ip

logger = logging.getLogger(__name__)


class ClientAddressMixin:
    """Throttles that count per client use the one client address of core.http (trusted proxies honoured)."""

    def get_ident(self, request):
        return client_ip(request) or "unknown"


class ApiTokenRateThrottle(ClientAddressMixin, SimpleRateThrottle):
    """Requests per token, counted in the default cache: it must be shared by every web node (Redis in production),
    or each node counts alone."""

    scope = "api_token"

    def get_cache_key(self, request, view):
        access = request.auth
        if not isinstance(access, PartnerAccess) or access.api_token is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": access.api_token.pk}


class RefusedTokenThrottle(ClientAddressMixin):
    """Refused API credentials (unknown, revoked, expired or dead tokens) per client address, in fixed windows counted
    in the default cache (shared by every node). Once an address has used up its refusals, every request from it that
    carries a token answers 429 with Retry-After until the window ends, before the token is even looked up, so guessing
    and replaying cost the server nothing and learn nothing. At most one refusal per address and window is recorded
    in the audit log; every refusal is logged (`advisories.api.throttling`) with its running count."""

    scope = "api_token_refused"

    def __init__(self, request):
        self.address = self.get_ident(request)
        self.limit, self.duration = SimpleRateThrottle.parse_rate(self, api_settings.DEFAULT_THROTTLE_RATES[self.scope])
        self.window = int(time.time() // self.duration)
        self._key = f"throttle_{self.scope}_{self.address}_{self.window}"

    def _retry_after(self) -> int:
        return max(1, math.ceil((self.window + 1) * self.duration - time.time()))

    def check(self) -> None:
        """Raise Throttled when this address has used up its refusals in the current window."""
        if (cache.get(self._key) or 0) >= self.limit:
            raise exceptions.Throttled(
                wait=self._retry_after(), detail="Too many refused tokens from your address. Try again later."
            )

    def record(self, *, reason: str) -> int:
        """Count one refusal and log it; returns the number of refusals from this address in the window."""
        cache.add(self._key, 0, timeout=self.duration + 5)
        try:
            count = cache.incr(self._key)
        except ValueError:  # the counter expired between add and incr
            cache.set(self._key, 1, timeout=self.duration + 5)
            count = 1
        logger.warning(
            "API token refused",
            extra={"client_ip": self.address, "reason": reason, "refusals_in_window": count, "limit": self.limit},
        )
        return count

    def claim_audit(self) -> bool:
        """True for the first caller of the window from this address: only that refusal becomes an audit event."""
        return cache.add(f"{self._key}_audited", True, timeout=self.duration + 5)
