import secrets
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from core.levels import AccessLevel
from core.roles import require_program_manager
from core.services import record_audit_event
from partners.models import ApiToken, ApiTokenScope, MemberRole, Partner, PartnerMembership, PartnerStatus
from partners.selectors import admin_membership, api_token_digest
from partners.signals import standing_changed


def create_partner(*, actor, legal_name: str, country: str, assigned_level: int, trading_name: str = "") -> Partner:
    """Create an active partner organisation with its own auth Group. Refuses non-managers and duplicates."""
    require_program_manager(actor)
    legal_name = legal_name.strip()
    if not legal_name:
        raise ValidationError({"legal_name": "A legal name is required."})
    if assigned_level not in AccessLevel.values:
        raise ValidationError({"assigned_level": "Unknown access level."})
    with transaction.atomic():
        if Partner.objects.filter(legal_name__iexact=legal_name).exists():
            raise ValidationError({"legal_name": "An organisation with this legal name already exists."})
        group = Group.objects.create(name=f"partner:{legal_name}"[:150])
        partner = Partner.objects.create(
            legal_name=legal_name,
            trading_name=trading_name.strip(),
            country=country,
            assigned_level=assigned_level,
            group=group,
        )
        record_audit_event(
            actor=actor,
            action="partner.created",
            target=partner,
            details={"country": str(country), "assigned_level": AccessLevel(assigned_level).label},
        )
    return partner


def add_member(*, actor, partner: Partner, email: str, role: str, password: str | None = None) -> PartnerMembership:
    """Create a partner user and their membership. Refuses staff accounts and people already in an organisation."""
    require_program_manager(actor)
    if role not in MemberRole.values:
        raise ValidationError({"role": "Unknown role."})
    if partner.status == PartnerStatus.REMOVED:
        raise ValidationError("A removed organisation cannot gain members.")
    user_model = get_user_model()
    email = user_model.objects.normalize_email(email).lower()
    with transaction.atomic():
        user = user_model.objects.filter(email__iexact=email).first()
        if user is None:
            user = user_model.objects.create_user(email=email, password=password)
        elif user.is_staff:
            raise ValidationError({"email": "Program staff cannot be members of a partner organisation."})
        elif PartnerMembership.objects.filter(user=user).exists():
            raise ValidationError({"email": "This person already belongs to an organisation."})
        membership = PartnerMembership.objects.create(user=user, partner=partner, role=role)
        record_audit_event(
            actor=actor, action="partner.member_added", target=partner, details={"email": email, "role": role}
        )
    return membership


def _change_standing(*, partner: Partner, actor, transition_name: str, reason: str, action: str) -> Partner:
    if not reason or not reason.strip():
        raise ValidationError({"reason": "A written reason is required."})
    with transaction.atomic():
        partner = Partner.objects.select_for_update().get(pk=partner.pk)
        previous = partner.status
        try:
            getattr(partner, transition_name)()
        except TransitionNotAllowed as error:
            raise ValidationError(f"A {previous} organisation cannot be {action.split('.')[1]}.") from error
        partner.status_changed_at = timezone.now()
        partner.save()
        if partner.status == PartnerStatus.REMOVED:
            partner.memberships.update(is_active=False)
            partner.api_tokens.filter(revoked_at__isnull=True).update(revoked_at=partner.status_changed_at)
        record_audit_event(
            actor=actor,
            action=action,
            target=partner,
            details={"from": previous, "to": partner.status, "reason": reason.strip()},
        )
        new_status = partner.status
        transaction.on_commit(
            lambda: standing_changed.send(sender=Partner, partner_id=partner.pk, new_status=new_status)
        )
    return partner


def suspend_partner(*, partner: Partner, actor, reason: str) -> Partner:
    """Suspend an active partner. Access ends at once through the entitlement rule."""
    require_program_manager(actor)
    return _change_standing(
        partner=partner, actor=actor, transition_name="suspend", reason=reason, action="partner.suspended"
    )


def reinstate_partner(*, partner: Partner, actor, reason: str) -> Partner:
    """Return a suspended partner to active."""
    require_program_manager(actor)
    return _change_standing(
        partner=partner, actor=actor, transition_name="reinstate", reason=reason, action="partner.reinstated"
    )


def remove_partner(*, partner: Partner, actor, reason: str) -> Partner:
    """Remove a partner for good: memberships deactivated, object permissions removed, history kept."""
    require_program_manager(actor)
    return _change_standing(
        partner=partner, actor=actor, transition_name="remove", reason=reason, action="partner.removed"
    )


# API tokens ------------------------------------------------------------------------------------------------------

API_TOKEN_MAX_LIFETIME = timedelta(days=366)
# last_used_at is written at most this often per token, so that a busy client costs no update per request.
API_TOKEN_LAST_USED_PRECISION = timedelta(minutes=1)


def _require_partner_admin(actor, partner: Partner | None = None) -> PartnerMembership:
    membership = admin_membership(actor)
    if membership is None or (partner is not None and membership.partner_id != partner.pk):
        raise PermissionDenied("Only the organisation's partner admins may manage its API tokens.")
    return membership


def create_api_token(*, actor, name: str, expires_at: datetime) -> tuple[ApiToken, str]:
    """Create a read-only API token for the actor's organisation. Returns the token and its secret, which is not
    stored and cannot be shown again. Refuses anyone but an active partner admin of an active organisation, and an
    expiry in the past or more than a year ahead."""
    membership = _require_partner_admin(actor)
    partner = membership.partner
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the token a name, e.g. the system that will use it."})
    now = timezone.now()
    if expires_at <= now:
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    if expires_at > now + API_TOKEN_MAX_LIFETIME:
        raise ValidationError({"expires_at": "A token may live for at most one year."})
    if partner.status != PartnerStatus.ACTIVE:
        raise ValidationError("A suspended or removed organisation cannot create API tokens.")
    prefix = secrets.token_hex(4)
    secret = f"fwn_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            partner=partner,
            name=name[:100],
            prefix=prefix,
            secret_sha256=api_token_digest(secret),
            scope=ApiTokenScope.READ,
            created_by=actor,
            expires_at=expires_at,
        )
        record_audit_event(
            actor=actor,
            action="api_token.created",
            target=token,
            details={"partner": partner.pk, "prefix": prefix, "expires_at": expires_at.isoformat()},
        )
    return token, secret


def revoke_api_token(*, actor, token: ApiToken) -> ApiToken:
    """Revoke a token of the actor's organisation at once. Revoking a revoked token changes nothing."""
    _require_partner_admin(actor, token.partner)
    with transaction.atomic():
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
