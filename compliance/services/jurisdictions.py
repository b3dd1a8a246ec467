"""Jurisdiction policies: country caps set by the program, previewed before saving, and recorded (with each
organisation told) when they take effect."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from compliance import notifications
from compliance.entitlements import effective_levels, effective_levels_with_policy
from compliance.models import JurisdictionPolicy, PolicyLevelChange
from core.levels import AccessLevel
from core.roles import COMPLIANCE_OFFICERS, PROGRAM_MANAGERS, require_staff_role
from core.services import record_audit_event
from partners.models import Partner, PartnerStatus
from partners.signals import announce_entitlement_change


def set_jurisdiction_policy(
    *, actor, country: str, cap_level: int, effective_at: datetime, reason: str
) -> JurisdictionPolicy:
    """Add a versioned country cap, in force from `effective_at`. A written reason is required. Compliance officers
    (and program managers) only. At the effective time `apply_due_jurisdiction_policies` records what changed."""
    require_staff_role(actor, COMPLIANCE_OFFICERS, PROGRAM_MANAGERS)
    if not reason.strip():
        raise ValidationError({"reason": "A written reason is required."})
    with transaction.atomic():
        policy = JurisdictionPolicy(
            country=country, cap_level=cap_level, effective_at=effective_at, reason=reason.strip(), created_by=actor
        )
        policy.full_clean()
        policy.save()
        record_audit_event(
            actor=actor,
            action="jurisdiction_policy.set",
            target=policy,
            details={"country": str(country), "cap": AccessLevel(cap_level).label, "effective_at": effective_at},
        )
    return policy


@dataclass(frozen=True)
class LevelChange:
    partner: Partner
    before: AccessLevel
    after: AccessLevel


def preview_jurisdiction_policy(*, country: str, cap_level: int, effective_at: datetime) -> list[LevelChange]:
    """The organisations (not removed) whose effective level at `effective_at` would differ if this policy were
    saved, with the level without and with it: the entitlement rule evaluated on the hypothetical policy."""
    partners = Partner.objects.filter(country=country).exclude(status=PartnerStatus.REMOVED)
    proposed = JurisdictionPolicy(country=country, cap_level=cap_level, effective_at=effective_at)
    before = effective_levels(partners, effective_at)
    after = effective_levels_with_policy(partners, effective_at, policy=proposed)
    by_id = partners.in_bulk(list(before))
    return sorted(
        (
            LevelChange(partner=by_id[pk], before=before[pk], after=after[pk])
            for pk in before
            if before[pk] != after[pk]
        ),
        key=lambda change: change.partner.legal_name,
    )


def apply_due_jurisdiction_policies(*, now: datetime | None = None) -> list[int]:
    """For each policy whose effective time has come and that was not applied yet: re-evaluate every organisation
    of its country (level just before and at the effective time, by the entitlement rule), record each change
    once (a row per policy and organisation), audit, notify each changed organisation's admins once, and mark the
    policy applied. Access itself changed at the effective time through the live rule; this records and tells.
    Policies locked by a concurrent run are skipped. Returns the ids applied."""
    at = now or timezone.now()
    applied = []
    while True:
        with transaction.atomic():
            policy = (
                JurisdictionPolicy.objects.select_for_update(skip_locked=True)
                .filter(applied_at__isnull=True, effective_at__lte=at)
                .exclude(pk__in=applied)
                .order_by("effective_at")
                .first()
            )
            if policy is None:
                return applied
            partners = Partner.objects.filter(country=policy.country).exclude(status=PartnerStatus.REMOVED)
            before = effective_levels(partners, policy.effective_at - timedelta(microseconds=1))
            after = effective_levels(partners, policy.effective_at)
            changes = [
                PolicyLevelChange(
                    policy=policy, partner_id=pk, level_before=before[pk], level_after=after[pk], recorded_at=at
                )
                for pk in before
                if before[pk] != after[pk]
            ]
            PolicyLevelChange.objects.bulk_create(changes, ignore_conflicts=True)
            announce_entitlement_change([c.partner_id for c in changes if c.level_after > c.level_before])
            policy.applied_at = at
            policy.save(update_fields=["applied_at"])
            record_audit_event(
                actor=None,
                action="jurisdiction_policy.applied",
                target=policy,
                details={
                    "changed": {
                        str(c.partner_id): [AccessLevel(c.level_before).label, AccessLevel(c.level_after).label]
                        for c in changes
                    }
                },
            )
            notifications.queue_policy_change_notices(policy_id=policy.pk)
        applied.append(policy.pk)
