"""API tokens of an organisation: created and revoked by its partner admins, and every use recorded."""

import secrets
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core.services import record_audit_event
from partners.models import ApiToken, ApiTokenScope, Partner, PartnerMembership, PartnerStatus
from partners.selectors import admin_membership, api_token_digest
from partners.services.organisations import lock_partner

API_TOKEN_MAX_LIFETIME = timedelta(days=366)
# last_used_at is written at most this often per token, so that a busy client costs no update per request.
API_TOKEN_LAST_USED_PRECISION = timedelta(minutes=1)


def _require_partner_admin(actor, partner: Partner | None = None) -> PartnerMembership:
    membership = admin_membership(actor)
    if membership is None or (partner is not None and membership.partner_id != partner.pk):
        raise PermissionDenied("Only the organisation's partner admins may manage its API tokens.")
    return membership


def create_api_token(
    *, actor, name: str, expires_at: datetime, scope: str = ApiTokenScope.READ
) -> tuple[ApiToken, str]:
    """Create an API token for the actor's organisation: read-only by default, or with the `report` scope, which
    also reports protection status and indicators (chosen deliberately at creation). Returns the token and its
    secret, which is not stored and cannot be shown again. Refuses anyone but an active partner admin of an active
    organisation, an unknown scope, and an expiry in the past or more than a year ahead."""
    membership = _require_partner_admin(actor)
    if scope not in ApiTokenScope.values:
        raise ValidationError({"scope": "Unknown token scope."})
    partner = membership.partner
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the token a name, e.g. the system that will use it."})
    now = timezone.now()
    if expires_at <= now:
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    if expires_at > now + API_TOKEN_MAX_LIFETIME:
        raise ValidationError({"expires_at": "A token may live for at most one year."})
    prefix = secrets.token_hex(4)
    secret = f"fwn_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        partner = lock_partner(partner.pk)
        _require_partner_admin(actor, partner)
        if partner.status != PartnerStatus.ACTIVE:
            raise ValidationError("A suspended or removed organisation cannot create API tokens.")
        token = ApiToken.objects.create(
            partner=partner,
            name=name[:100],
            prefix=prefix,
            secret_sha256=api_token_digest(secret),
            scope=scope,
            created_by=actor,
            expires_at=expires_at,
        )
        record_audit_event(
            actor=actor,
            action="api_token.created",
            target=token,
            details={"partner": partner.pk, "prefix": prefix, "expires_at": expires_at.isoformat(), "scope": scope},
        )
    return token, secret


def revoke_api_token(*, actor, token: ApiToken) -> ApiToken:
    """Revoke a token of the actor's organisation at once. Revoking a revoked token changes nothing."""
    _require_partner_admin(actor, token.partner)
    with transaction.atomic():
        lock_partner(token.partner_id)
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is not None:
            return token
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record_audit_event(actor=actor, action="api_token.revoked", target=token, details={"prefix": token.prefix})
    return token


def record_api_token_use(
    *, token: ApiToken, method: str, path: str, status_code: int, ip_address=None, refused: str = ""
) -> None:
    """One audit event per API request made with a token (refused ones included), and the token's last-used
    time, written at most once a minute."""
    now = timezone.now()
    with transaction.atomic():
        if token.last_used_at is None or now - token.last_used_at >= API_TOKEN_LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        details = {"prefix": token.prefix, "method": method, "path": path[:300], "status": status_code}
        if refused:
            details["refused"] = refused
        record_audit_event(
            actor=token.created_by,
            action="api_token.refused" if refused else "api_token.used",
            target=token,
            details=details,
            ip_address=ip_address,
        )
