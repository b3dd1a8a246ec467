"""Appeals: a partner admin appeals an enforcement action against their organisation; a compliance officer
upholds or overturns it, and overturning undoes the action."""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from compliance import notifications
from compliance.models import Appeal, AppealStatus, EnforcementAction, EnforcementKind
from core.roles import require_compliance_officer
from core.services import record_audit_event
from partners import services as partner_services
from partners.models import Partner, PartnerStatus
from partners.selectors import is_active_admin
from partners.signals import announce_entitlement_change


def file_appeal(*, actor, action: EnforcementAction, statement: str) -> Appeal:
    """A partner admin appeals an enforcement action against their own organisation with a written statement.
    Refuses anyone else, a reinstatement, an action already overturned and a second pending appeal."""
    if not is_active_admin(actor, action.partner_id):
        raise PermissionDenied("Only your organisation's partner admins can appeal.")
    if not statement or not statement.strip():
        raise ValidationError({"statement": "Write your statement."})
    with transaction.atomic():
        partner_services.lock_partner(action.partner_id)
        if not is_active_admin(actor, action.partner_id):  # again under the lock: deactivated or removed since
            raise PermissionDenied("Only your organisation's partner admins can appeal.")
        action = EnforcementAction.objects.select_for_update().get(pk=action.pk)
        if action.kind == EnforcementKind.REINSTATEMENT:
            raise ValidationError("A reinstatement cannot be appealed.")
        if action.overturned_at is not None:
            raise ValidationError("This action has already been overturned.")
        if action.appeals.filter(status=AppealStatus.FILED).exists():
            raise ValidationError("An appeal against this action is already pending.")
        appeal = Appeal.objects.create(action=action, statement=statement.strip(), filed_by=actor)
        record_audit_event(
            actor=actor,
            action="appeal.filed",
            target=appeal,
            details={"enforcement_action": action.pk, "partner": action.partner_id},
        )
    return appeal


def _overturn_effect(*, action: EnforcementAction, actor, decision: str, at: datetime) -> None:
    """Undo an action through the same services that applied it."""
    if action.kind == EnforcementKind.REMOVAL:
        raise ValidationError(
            "A removal cannot be overturned: removal is final. Uphold the appeal, or invite the organisation to "
            "apply again."
        )
    if action.kind in (EnforcementKind.LEVEL_CAP, EnforcementKind.SUSPENSION) and (
        action.ends_at is None or action.ends_at > at
    ):
        action.ends_at = at
    if action.kind == EnforcementKind.LEVEL_CAP:
        announce_entitlement_change([action.partner_id])
    if action.kind == EnforcementKind.SUSPENSION:
        partner = Partner.objects.get(pk=action.partner_id)
        if partner.status == PartnerStatus.SUSPENDED:
            partner_services.reinstate_partner(
                partner=partner, actor=actor, reason=f"Appeal against the suspension overturned: {decision}"
            )
    action.overturned_at = at
    action.save(update_fields=["ends_at", "overturned_at"])


def decide_appeal(*, actor, appeal: Appeal, overturn: bool, decision: str) -> Appeal:
    """A compliance officer upholds or overturns a pending appeal, with a written decision. Overturning restores
    the state before the action: a cap ends now, a suspension ends now (the organisation is reinstated), a warning
    is withdrawn; a removal cannot be overturned (refused). The organisation's admins are told."""
    require_compliance_officer(actor)
    if not decision or not decision.strip():
        raise ValidationError({"decision": "Write the decision and its reasons."})
    with transaction.atomic():
        # The documented order: the organisation (an overturned suspension reinstates it), the action, the appeal.
        partner_services.lock_partner(
            EnforcementAction.objects.values_list("partner_id", flat=True).get(appeals=appeal)
        )
        action = EnforcementAction.objects.select_for_update().get(appeals=appeal)
        appeal = Appeal.objects.select_for_update().get(pk=appeal.pk)
        try:
            if overturn:
                appeal.overturn()
            else:
                appeal.uphold()
        except TransitionNotAllowed:
            raise ValidationError(f"This appeal was already {appeal.get_status_display().lower()}.") from None
        now = timezone.now()
        if overturn:
            _overturn_effect(action=action, actor=actor, decision=decision.strip(), at=now)
        appeal.decision = decision.strip()
        appeal.decided_by = actor
        appeal.decided_at = now
        appeal.save()
        record_audit_event(
            actor=actor,
            action=f"appeal.{appeal.status}",
            target=appeal,
            details={"enforcement_action": appeal.action_id, "decision": appeal.decision},
        )
        notifications.queue_appeal_decision(appeal_id=appeal.pk)
    return appeal
