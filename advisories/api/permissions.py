from rest_framework import exceptions, permissions

from compliance.entitlements import PartnerAccess
from core.levels import AccessLevel
from partners.models import ApiTokenScope

# Every scope reads; writing needs a scope chosen for it when the token was created.
READING_SCOPES = (ApiTokenScope.READ, ApiTokenScope.REPORT)


class HasPartnerAccess(permissions.BasePermission):
    """A valid token of an organisation that may currently see advisories. Read-only requests only, except on the
    views that declare `write_scope` (protection reports), where a token created with that scope may write. An
    organisation without access (suspended, unsigned, capped to none) is refused on every endpoint alike, as in
    the portal."""

    def has_permission(self, request, view):
        access = request.auth
        if not isinstance(access, PartnerAccess) or access.api_token is None:
            return False
        if access.api_token.scope not in READING_SCOPES:
            return False
        if request.method not in permissions.SAFE_METHODS:
            write_scope = getattr(view, "write_scope", None)
            if write_scope is None:
                return False
            if access.api_token.scope != write_scope:
                raise exceptions.PermissionDenied(
                    f"This token is read-only. A partner admin can create a token with the “{write_scope}” scope "
                    "to report through the API."
                )
        if access.level == AccessLevel.NONE:
            raise exceptions.PermissionDenied("Your organisation has no access to advisories at the moment.")
        return True
