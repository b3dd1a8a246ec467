"""What the higher layers tell core at start-up (from their AppConfig.ready()), so that core never names them:

- the landing pages `home` sends people to (`register_landing`),
- the model permissions each staff role gets in the management site (`register_role_permissions`, used by
  `manage.py sync_roles`),
- how to find a user's partner access (`register_partner_access`, the entitlement service's lookup) and their active
  membership (`register_partner_membership`), used by core.access.member_view and partner_admin_view.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Landing:
    """Where `home` sends a user for whom `applies(user)` holds; landings are tried by `priority`, lowest first."""

    priority: int
    applies: Callable
    url_name: str


_landings: list[Landing] = []
_role_permissions: dict[str, list[str]] = {}
_partner_access: list[Callable] = []
_partner_membership: list[Callable] = []


def register_landing(*, priority: int, applies: Callable, url_name: str) -> None:
    _landings.append(Landing(priority, applies, url_name))
    _landings.sort(key=lambda landing: landing.priority)


def landing_url_name(user) -> str | None:
    return next((landing.url_name for landing in _landings if landing.applies(user)), None)


def register_role_permissions(role: str, permissions: list[str]) -> None:
    """Add model permissions ("app_label.codename") to a staff role; each app registers those of its own models."""
    _role_permissions.setdefault(role, []).extend(permissions)


def role_permissions() -> dict[str, list[str]]:
    return {role: list(permissions) for role, permissions in _role_permissions.items()}


def register_partner_access(lookup: Callable) -> None:
    _partner_access[:] = [lookup]


def partner_access(user):
    """The user's partner access (None when they are no active partner member), by the registered lookup."""
    (lookup,) = _partner_access
    return lookup(user)


def register_partner_membership(lookup: Callable) -> None:
    _partner_membership[:] = [lookup]


def partner_membership(user):
    """The user's active partner membership (None for anyone else, staff included), by the registered lookup."""
    (lookup,) = _partner_membership
    return lookup(user)
