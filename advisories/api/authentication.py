from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from advisories.api.throttling import RefusedTokenThrottle
from compliance.entitlements import token_access
from core.http import client_ip
from partners.selectors import api_token_for_secret
from partners.services import record_api_token_use

KEYWORDS = ("token", "bearer")


def _refusal_reason(token) -> str:
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at <= timezone.now():
        return "expired"
    return "organisation or creator no longer active"


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <secret>` (or `Bearer <secret>`). The token acts with its organisation's access, decided
    by compliance.entitlements.token_access on every request; `request.auth` is that PartnerAccess.

    Refusals are throttled per client address (RefusedTokenThrottle): past the limit every request with a token from
    that address answers 429 with Retry-After, before any look-up. A known token that is refused (revoked, expired,
    organisation removed, creator gone) is audited once per address and window; unknown tokens and further refusals
    are counted and logged, so that guessing or replaying cannot flood the audit log."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower().decode(errors="replace") not in KEYWORDS:
            return None
        refusals = RefusedTokenThrottle(request)
        refusals.check()
        if len(header) != 2:
            refusals.record(reason="malformed")
            raise exceptions.AuthenticationFailed("Send the token as: Authorization: Token <secret>.")
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError as error:
            refusals.record(reason="malformed")
            raise exceptions.AuthenticationFailed("Invalid token.") from error
        token = api_token_for_secret(secret)
        if token is None:
            refusals.record(reason="unknown")
            raise exceptions.AuthenticationFailed("Invalid token.")
        access = token_access(token)
        if access is None:
            reason = _refusal_reason(token)
            refusals.record(reason=reason)
            if refusals.claim_audit():
                record_api_token_use(
                    token=token,
                    method=request.method,
                    path=request.path,
                    status_code=401,
                    ip_address=client_ip(request),
                    refused=reason,
                )
            raise exceptions.AuthenticationFailed("This token is revoked, expired or no longer valid.")
        return access.user, access

    def authenticate_header(self, request):
        return 'Token realm="api"'


class ApiTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token created by a partner admin in the portal (Authorization: Bearer <token>; "
            "'Token <token>' is accepted too).",
        }
