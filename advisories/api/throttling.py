from rest_framework.throttling import SimpleRateThrottle

from compliance.entitlements import PartnerAccess


class ApiTokenRateThrottle(SimpleRateThrottle):
    """Requests per token, counted in the default cache: it must be shared by every web node (Redis in production),
    or each node counts alone."""

    scope = "api_token"

    def get_cache_key(self, request, view):
        access = request.auth
        if not isinstance(access, PartnerAccess) or access.api_token is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": access.api_token.pk}
