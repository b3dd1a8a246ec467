"""An organisation's team, run by its partner admins: invitations (sent, accepted, withdrawn) and members
deactivated."""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from core.roles import is_program_manager
from core.services import record_audit_event
from partners import notifications, tokens
from partners.models import Invitation, MemberRole, Partner, PartnerMembership, PartnerStatus
from partners.selectors import is_active_admin
from partners.services.organisations import email_domain, lock_partner


def _require_team_manager(actor, partner: Partner) -> None:
    """Program managers, and the active admins of an active organisation, manage its team. The membership is read
    from the database, not from the actor object: services ask again after locking the organisation, so that an
    admin deactivated (or an organisation removed) in the meantime no longer acts."""
    if is_program_manager(actor):
        return
    is_admin = actor is not None and actor.is_authenticated and is_active_admin(actor, partner.pk)
    if not is_admin:
        raise PermissionDenied("Only your organisation's partner admins manage its team.")


def _check_can_join(*, partner: Partner, email: str, at: datetime, exclude_invitation=None):
    """Refuse unless `email` may join `partner` now; returns the organisation's other pending invitations."""
    if partner.status != PartnerStatus.ACTIVE:
        raise ValidationError(f"A {partner.status} organisation cannot gain members.")
    if not partner.domains.filter(domain=email_domain(email)).exists():
        raise ValidationError({"email": "Invite addresses on your organisation's registered email domains only."})
    user = get_user_model().objects.filter(email__iexact=email).select_related("membership").first()
    if user is not None:
        if user.is_staff:
            raise ValidationError({"email": "Program staff cannot be members of a partner organisation."})
        membership = getattr(user, "membership", None)
        if membership is not None and (membership.partner_id != partner.pk or membership.is_active):
            raise ValidationError({"email": "This person already belongs to an organisation."})
    pending = partner.invitations.pending(at)
    if exclude_invitation is not None:
        pending = pending.exclude(pk=exclude_invitation.pk)
    members = partner.memberships.filter(is_active=True).count()
    if members + pending.count() + 1 > partner.seat_limit:
        raise ValidationError(f"{partner} has used all of its {partner.seat_limit} seats.")
    return pending


def invite_member(*, partner: Partner, actor, email: str, role: str) -> Invitation:
    """Invite one person to the organisation by a signed, single-use link valid for INVITATION_MAX_AGE. Refuses
    analysts and outsiders, an address outside the registered domains, staff and members of any organisation, a
    second pending invitation, a full organisation and one that is not active."""
    _require_team_manager(actor, partner)
    if role not in MemberRole.values:
        raise ValidationError({"role": "Unknown role."})
    email = get_user_model().objects.normalize_email(email.strip()).lower()
    now = timezone.now()
    with transaction.atomic():
        partner = lock_partner(partner.pk)
        _require_team_manager(actor, partner)
        pending = _check_can_join(partner=partner, email=email, at=now)
        if pending.filter(email=email).exists():
            raise ValidationError({"email": "This person already has a pending invitation."})
        # An expired invitation to the same address is closed at its expiry: one open invitation per address.
        partner.invitations.open().filter(email=email, expires_at__lte=now).update(revoked_at=F("expires_at"))
        invitation = Invitation.objects.create(
            partner=partner,
            email=email,
            role=role,
            nonce=secrets.token_urlsafe(24),
            invited_by=actor,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.INVITATION_MAX_AGE),
        )
        record_audit_event(
            actor=actor,
            action="partner.member_invited",
            target=partner,
            details={"email": email, "role": role, "invitation": invitation.pk, "expires_at": invitation.expires_at},
        )
        notifications.queue_invitation(invitation_id=invitation.pk)
    return invitation


INVALID_INVITATION = "This invitation link is invalid."


def invitation_from_token(token: str) -> Invitation:
    """The invitation a link names, if it can still be accepted. Refuses forged links and invitations that were
    used, revoked or have expired, each with a clear message."""
    content = tokens.read_invitation_token(token)
    if content is None:
        raise ValidationError("This invitation link is invalid or has expired. Ask your organisation for a new one.")
    invitation = Invitation.objects.select_related("partner").filter(pk=content.get("i")).first()
    if invitation is None or not constant_time_compare(invitation.nonce, content.get("n", "")):
        raise ValidationError(INVALID_INVITATION)
    _require_pending(invitation, timezone.now())
    return invitation


def _require_pending(invitation: Invitation, at: datetime) -> None:
    state = invitation.state(at)
    if state != "pending":
        raise ValidationError(
            {
                "accepted": "This invitation has already been used. Log in instead.",
                "revoked": "This invitation was withdrawn.",
                "expired": "This invitation has expired. Ask your organisation for a new one.",
            }[state]
        )


def accept_invitation(*, token: str, password: str, ip_address=None):
    """Accept an invitation: create (or re-activate) the invitee's account with `password` and membership. The
    invitation is used up. Refuses everything `invitation_from_token` refuses, a weak password, and any reason the
    invitee could no longer join (organisation not active, domain no longer registered, seats full)."""
    with transaction.atomic():
        invitation = invitation_from_token(token)
        partner = lock_partner(invitation.partner_id)
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        now = timezone.now()
        _require_pending(invitation, now)  # again under the locks: used, withdrawn or its organisation removed since
        _check_can_join(partner=partner, email=invitation.email, at=now, exclude_invitation=invitation)
        user_model = get_user_model()
        user = user_model.objects.filter(email__iexact=invitation.email).first() or user_model(email=invitation.email)
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise ValidationError({"password": error.messages}) from error
        user.set_password(password)
        user.is_active = True
        try:
            with transaction.atomic():  # one account per address, one membership per person
                user.save()
                PartnerMembership.objects.update_or_create(
                    user=user, defaults={"partner": partner, "role": invitation.role, "is_active": True}
                )
        except IntegrityError:
            raise ValidationError({"email": "This person already belongs to an organisation."}) from None
        invitation.accepted_at = now
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        record_audit_event(
            actor=user,
            action="partner.invitation_accepted",
            target=partner,
            details={"email": user.email, "role": invitation.role, "invitation": invitation.pk},
            ip_address=ip_address,
        )
    return user


def revoke_invitation(*, invitation: Invitation, actor) -> Invitation:
    """Withdraw a pending invitation. Refuses one already used, withdrawn or expired."""
    _require_team_manager(actor, invitation.partner)
    with transaction.atomic():
        partner = lock_partner(invitation.partner_id)
        _require_team_manager(actor, partner)
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.state(timezone.now()) != "pending":
            raise ValidationError("Only a pending invitation can be withdrawn.")
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        record_audit_event(
            actor=actor,
            action="partner.invitation_revoked",
            target=invitation.partner,
            details={"email": invitation.email},
        )
    return invitation


def deactivate_member(*, membership: PartnerMembership, actor, reason: str = "") -> PartnerMembership:
    """End a colleague's access: their membership stays for the record, inactive. Refuses analysts and outsiders,
    and admins deactivating themselves (so an organisation always keeps the admin who acts)."""
    _require_team_manager(actor, membership.partner)
    if membership.user_id == getattr(actor, "pk", None):
        raise ValidationError("You cannot deactivate yourself.")
    with transaction.atomic():
        partner = lock_partner(membership.partner_id)
        _require_team_manager(actor, partner)
        membership = (
            PartnerMembership.objects.select_for_update(of=("self",)).select_related("user").get(pk=membership.pk)
        )
        if not membership.is_active:
            raise ValidationError("This person is already deactivated.")
        membership.is_active = False
        membership.save(update_fields=["is_active"])
        record_audit_event(
            actor=actor,
            action="partner.member_deactivated",
            target=membership.partner,
            details={"email": membership.user.email, "reason": reason.strip()},
        )
    return membership
