from rest_framework import exceptions, permissions

from compliance.entitlements import PartnerAccess
from core.levels import AccessLevel
from partners.models import ApiTokenScope


class HasPartnerAccess(permissions.BasePermission):
    """A valid token of an organisation that may currently see advisories; read-only requests only. An organisation
    without access (suspended, unsigned, capped to none) is refused on every endpoint alike, as in the portal."""

    def has_permission(self, request, view):
        access = request.auth
        if not isinstance(access, PartnerAccess) or access.api_token is None:
            return False
        if request.method not in permissions.SAFE_METHODS or access.api_token.scope != ApiTokenScope.READ:
            return False
        if access.level == AccessLevel.NONE:
            raise exceptions.PermissionDenied("Your organisation has no access to advisories at the moment.")
        return True
