"""Enforcement for a substantiated violation: a warning, a level cap, a suspension or removal, and reinstatement.
Suspension, removal and reinstatement go through the partner lifecycle (`partners.services`)."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from compliance import notifications
from compliance.models import EnforcementAction, EnforcementKind, Violation, ViolationStatus
from core.levels import AccessLevel
from core.roles import require_compliance_officer
from core.services import record_audit_event
from partners import services as partner_services
from partners.models import PartnerStatus

PUNITIVE_KINDS = (
    EnforcementKind.WARNING,
    EnforcementKind.LEVEL_CAP,
    EnforcementKind.SUSPENSION,
    EnforcementKind.REMOVAL,
)
# Suspension, removal and reinstatement are announced by the partner lifecycle's own notice (with the reason).
KINDS_NOTIFIED_HERE = (EnforcementKind.WARNING, EnforcementKind.LEVEL_CAP)


def _require_enforceable(violation: Violation, kind: str) -> Violation:
    """Lock the organisation, then the violation (docs/architecture.md, "Locks"), and check both under the locks."""
    partner_services.lock_partner(Violation.objects.values_list("partner_id", flat=True).get(pk=violation.pk))
    violation = Violation.objects.select_for_update(of=("self",)).select_related("partner").get(pk=violation.pk)
    if kind in PUNITIVE_KINDS and violation.status != ViolationStatus.SUBSTANTIATED:
        raise ValidationError("Only a substantiated violation can lead to a warning, a cap, a suspension or removal.")
    if violation.partner.status == PartnerStatus.REMOVED:
        raise ValidationError("The organisation is removed; no further action can be taken against it.")
    return violation


def _record_action(
    *, violation: Violation, actor, kind: str, reason: str, starts_at: datetime, ends_at=None, cap_level=None
) -> EnforcementAction:
    action = EnforcementAction(
        partner=violation.partner,
        violation=violation,
        kind=kind,
        cap_level=cap_level,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason.strip(),
        created_by=actor,
    )
    action.full_clean()
    action.save()
    details = {"partner": violation.partner_id, "violation": violation.pk, "kind": kind, "reason": action.reason}
    if cap_level is not None:
        details["cap"] = AccessLevel(cap_level).label
    if ends_at is not None:
        details["ends_at"] = ends_at
    record_audit_event(actor=actor, action=f"enforcement.{kind}", target=action, details=details)
    if kind in KINDS_NOTIFIED_HERE:
        notifications.queue_enforcement_notice(action_id=action.pk)
    return action


def _require_reason(reason: str) -> None:
    if not reason or not reason.strip():
        raise ValidationError({"reason": "A written reason is required."})


def issue_warning(*, violation: Violation, actor, reason: str) -> EnforcementAction:
    """A formal warning for a substantiated violation; changes no access. The partner's admins are told why."""
    require_compliance_officer(actor)
    _require_reason(reason)
    with transaction.atomic():
        violation = _require_enforceable(violation, EnforcementKind.WARNING)
        return _record_action(
            violation=violation, actor=actor, kind=EnforcementKind.WARNING, reason=reason, starts_at=timezone.now()
        )


def impose_level_cap(
    *, violation: Violation, actor, cap_level: int, reason: str, ends_at: datetime | None = None
) -> EnforcementAction:
    """Cap the organisation's effective level (e.g. standard: no PoC) from now, until `ends_at` or for good. It
    takes effect at once through the entitlement rule. Refuses a cap of early (no cap) and an end in the past."""
    require_compliance_officer(actor)
    _require_reason(reason)
    if cap_level not in (AccessLevel.NONE, AccessLevel.GENERIC, AccessLevel.STANDARD):
        raise ValidationError({"cap_level": "A cap must be below early: none, generic or standard."})
    now = timezone.now()
    if ends_at is not None and ends_at <= now:
        raise ValidationError({"ends_at": "A cap must end in the future."})
    with transaction.atomic():
        violation = _require_enforceable(violation, EnforcementKind.LEVEL_CAP)
        return _record_action(
            violation=violation,
            actor=actor,
            kind=EnforcementKind.LEVEL_CAP,
            reason=reason,
            starts_at=now,
            ends_at=ends_at,
            cap_level=cap_level,
        )


def suspend_for_violation(
    *, violation: Violation, actor, reason: str, until: datetime | None = None
) -> EnforcementAction:
    """Suspend the organisation for a substantiated violation, until `until` (the timed-suspension task ends it)
    or until reinstated, through the partner lifecycle (which notifies the admins). Refuses what
    `suspend_partner` refuses (not active, an end in the past)."""
    require_compliance_officer(actor)
    _require_reason(reason)
    with transaction.atomic():
        violation = _require_enforceable(violation, EnforcementKind.SUSPENSION)
        partner_services.suspend_partner(partner=violation.partner, actor=actor, reason=reason, until=until)
        return _record_action(
            violation=violation,
            actor=actor,
            kind=EnforcementKind.SUSPENSION,
            reason=reason,
            starts_at=timezone.now(),
            ends_at=until,
        )


def remove_for_violation(*, violation: Violation, actor, reason: str) -> EnforcementAction:
    """Remove the organisation for good (removal is final, docs/design.md), through the partner lifecycle."""
    require_compliance_officer(actor)
    _require_reason(reason)
    with transaction.atomic():
        violation = _require_enforceable(violation, EnforcementKind.REMOVAL)
        partner_services.remove_partner(partner=violation.partner, actor=actor, reason=reason)
        return _record_action(
            violation=violation, actor=actor, kind=EnforcementKind.REMOVAL, reason=reason, starts_at=timezone.now()
        )


def reinstate_for_violation(*, violation: Violation, actor, reason: str) -> EnforcementAction:
    """Reinstate an organisation suspended over `violation`; open suspensions over it end now. Missed waves are
    delivered by the partner lifecycle's signal. Refuses an organisation that is not suspended."""
    require_compliance_officer(actor)
    _require_reason(reason)
    with transaction.atomic():
        violation = _require_enforceable(violation, EnforcementKind.REINSTATEMENT)
        partner_services.reinstate_partner(partner=violation.partner, actor=actor, reason=reason)
        now = timezone.now()
        _end_open_suspensions(partner_id=violation.partner_id, at=now)
        return _record_action(
            violation=violation, actor=actor, kind=EnforcementKind.REINSTATEMENT, reason=reason, starts_at=now
        )


def _end_open_suspensions(*, partner_id: int, at: datetime) -> None:
    EnforcementAction.objects.filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=at), partner_id=partner_id, kind=EnforcementKind.SUSPENSION
    ).update(ends_at=at)
