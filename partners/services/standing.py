"""An organisation's standing in the program (suspend, reinstate, remove; timed suspensions ending) and the level
the program assigns to it."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from core.levels import AccessLevel
from core.roles import COMPLIANCE_OFFICERS, PROGRAM_MANAGERS, require_program_manager, require_staff_role
from core.services import record_audit_event
from partners import notifications
from partners.models import MemberRole, Partner, PartnerMembership, PartnerStatus
from partners.services.organisations import lock_partner
from partners.signals import announce_entitlement_change, standing_changed

STANDING_ROLES = (PROGRAM_MANAGERS, COMPLIANCE_OFFICERS)


def _admin_user_ids(partner_id: int) -> list[int]:
    return list(
        PartnerMembership.objects.filter(
            partner_id=partner_id, role=MemberRole.ADMIN, is_active=True, user__is_active=True
        ).values_list("user_id", flat=True)
    )


def _change_standing(
    *, partner: Partner, actor, transition_name: str, reason: str, action: str, until: datetime | None = None
) -> Partner:
    if not reason or not reason.strip():
        raise ValidationError({"reason": "A written reason is required."})
    with transaction.atomic():
        partner = lock_partner(partner.pk)
        previous = partner.status
        try:
            getattr(partner, transition_name)()
        except TransitionNotAllowed as error:
            raise ValidationError(f"A {previous} organisation cannot be {action.split('.')[1]}.") from error
        now = timezone.now()
        partner.status_changed_at = now
        partner.suspended_until = until if partner.status == PartnerStatus.SUSPENDED else None
        partner.save()
        # Told before removal deactivates them: the admins hear why their organisation lost access.
        admin_ids = _admin_user_ids(partner.pk)
        if partner.status == PartnerStatus.REMOVED:
            partner.memberships.update(is_active=False)
            partner.invitations.pending(now).update(revoked_at=now)
            partner.api_tokens.filter(revoked_at__isnull=True).update(revoked_at=now)
        details = {"from": previous, "to": partner.status, "reason": reason.strip()}
        if until is not None:
            details["until"] = until.isoformat()
        event = record_audit_event(actor=actor, action=action, target=partner, details=details)
        new_status = partner.status
        transaction.on_commit(
            lambda: standing_changed.send(sender=Partner, partner_id=partner.pk, new_status=new_status)
        )
        if new_status == PartnerStatus.ACTIVE:
            # Reinstated: entitled again to what is due (never before its cohort time, never above its level).
            announce_entitlement_change([partner.pk])
        notifications.queue_partner_notice(event_id=event.pk, user_ids=admin_ids)
    return partner


def suspend_partner(*, partner: Partner, actor, reason: str, until: datetime | None = None) -> Partner:
    """Suspend an active partner, until `until` (UTC, in the future) or until reinstated. Access ends at once
    through the entitlement rule. Refuses anyone but program managers and compliance officers, a missing reason,
    an end in the past and any partner that is not active."""
    require_staff_role(actor, *STANDING_ROLES)
    if until is not None and until <= timezone.now():
        raise ValidationError({"until": "A suspension must end in the future."})
    return _change_standing(
        partner=partner, actor=actor, transition_name="suspend", reason=reason, action="partner.suspended", until=until
    )


def reinstate_partner(*, partner: Partner, actor, reason: str) -> Partner:
    """Return a suspended partner to active. Refuses a partner that is not suspended."""
    require_staff_role(actor, *STANDING_ROLES)
    return _change_standing(
        partner=partner, actor=actor, transition_name="reinstate", reason=reason, action="partner.reinstated"
    )


def remove_partner(*, partner: Partner, actor, reason: str) -> Partner:
    """Remove a partner for good: memberships deactivated, pending invitations revoked, object permissions removed
    (by the advisories layer on `standing_changed`), history kept. Refuses an organisation already removed."""
    require_staff_role(actor, *STANDING_ROLES)
    return _change_standing(
        partner=partner, actor=actor, transition_name="remove", reason=reason, action="partner.removed"
    )


ASSIGNABLE_LEVELS = (AccessLevel.GENERIC, AccessLevel.STANDARD, AccessLevel.EARLY)


def change_assigned_level(*, partner: Partner, level: int, actor, reason: str) -> Partner:
    """Change the level the program assigns to an organisation, with a written reason. Contracts, jurisdiction and
    enforcement may still cap it lower (the entitlement rule); a raised level delivers what became due after commit.
    Refuses anyone but program managers, a level other than generic, standard or early, the level it already has,
    a missing reason and a removed organisation."""
    require_program_manager(actor)
    if level not in ASSIGNABLE_LEVELS:
        raise ValidationError({"level": "Choose generic, standard or early."})
    if not reason or not reason.strip():
        raise ValidationError({"reason": "A written reason is required."})
    with transaction.atomic():
        partner = lock_partner(partner.pk)
        if partner.status == PartnerStatus.REMOVED:
            raise ValidationError("A removed organisation's level cannot change.")
        previous = partner.assigned_level
        if previous == level:
            raise ValidationError({"level": f"The organisation is already assigned {AccessLevel(level).label}."})
        partner.assigned_level = level
        partner.save(update_fields=["assigned_level"])
        record_audit_event(
            actor=actor,
            action="partner.level_changed",
            target=partner,
            details={"from": AccessLevel(previous).label, "to": AccessLevel(level).label, "reason": reason.strip()},
        )
        if level > previous:
            announce_entitlement_change([partner.pk])
    return partner


def end_due_suspensions(*, now: datetime | None = None) -> list[int]:
    """Reinstate every partner whose timed suspension has ended, each in its own transaction. Rows locked by a
    concurrent run are skipped, so no partner is reinstated twice. Returns the ids reinstated."""
    reinstated = []
    while True:
        at = now or timezone.now()
        with transaction.atomic():
            partner = (
                Partner.objects.select_for_update(skip_locked=True)
                .filter(status=PartnerStatus.SUSPENDED, suspended_until__lte=at)
                .exclude(pk__in=reinstated)
                .order_by("suspended_until")
                .first()
            )
            if partner is None:
                return reinstated
            _change_standing(
                partner=partner,
                actor=None,
                transition_name="reinstate",
                reason=f"The suspension ended at {partner.suspended_until:%Y-%m-%d %H:%M} UTC.",
                action="partner.reinstated",
            )
        reinstated.append(partner.pk)
