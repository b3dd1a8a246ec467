from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from core.levels import AccessLevel
from core.roles import require_program_manager
from core.services import record_audit_event
from partners.models import MemberRole, Partner, PartnerMembership, PartnerStatus
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
