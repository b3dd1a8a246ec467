"""Release plans: the waves of an advisory scheduled, moved or cancelled, cohorts that split a wave, and the
withdrawal that ends a plan and every partner's access."""

from datetime import datetime

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone
from guardian.utils import get_group_obj_perms_model

from advisories.models import (
    Advisory,
    AdvisoryDocument,
    AdvisoryStatus,
    Artifact,
    Notice,
    NoticeKind,
    ReleaseCohort,
    ReleaseWave,
    WaveStatus,
    WebhookEventType,
)
from advisories.services.authoring import require_assigned_manager
from advisories.signals import notices_to_email
from advisories.webhooks.services import queue_advisory_change_events
from core.levels import AccessLevel
from core.services import record_audit_event
from partners.models import PartnerMembership

PLAN_FIELDS = {
    AccessLevel.EARLY: "early_at",
    AccessLevel.STANDARD: "standard_at",
    AccessLevel.GENERIC: "public_release_at",
}


def release_plan_order_errors(times: dict[int, datetime | None]) -> dict[str, list[str]]:
    """Every ordering mistake of a plan at once (early <= standard <= public release), keyed by the form field of
    the later wave, so that a manager fixes them all in one go."""
    errors: dict[str, list[str]] = {}
    early, standard, public = (times.get(level) for level in PLAN_FIELDS)
    if early and standard and early > standard:
        errors.setdefault("standard_at", []).append("The standard wave cannot come before the early wave.")
    if early and public and early > public:
        errors.setdefault("early_at", []).append("The early wave must come no later than the public release.")
    if standard and public and standard > public:
        errors.setdefault("standard_at", []).append("The standard wave must come no later than the public release.")
    return errors


def validate_release_plan(advisory: Advisory, waves: list[ReleaseWave]) -> None:
    """early <= standard <= public release, and the generic wave exactly at public release; every mistake is
    reported at once."""
    at = {wave.level: wave.scheduled_at for wave in waves if wave.status != WaveStatus.CANCELLED}
    errors: dict = release_plan_order_errors(at)
    if at.get(AccessLevel.GENERIC) != advisory.public_release_at:
        errors[NON_FIELD_ERRORS] = ["The generic wave must be scheduled at the public release time."]
    if errors:
        raise ValidationError(errors)


def release_plan_warnings(advisory: Advisory, *, now: datetime) -> list[str]:
    """What deserves a word before it goes wrong: a draft whose public release lies in the past (it cannot be
    scheduled that way)."""
    if advisory.status == AdvisoryStatus.DRAFT and advisory.public_release_at <= now:
        return [
            f"The public release ({advisory.public_release_at:%Y-%m-%d %H:%M} UTC) is in the past: choose a future "
            "time in the release plan before scheduling it."
        ]
    return []


def schedule_advisory(*, actor, advisory: Advisory) -> Advisory:
    """Move a draft advisory with a valid release plan to scheduled, so that its waves release on time. Refuses
    anyone but the advisory's assigned managers."""
    require_assigned_manager(actor, advisory)
    with transaction.atomic():
        advisory = Advisory.objects.select_for_update().get(pk=advisory.pk)
        if advisory.status != AdvisoryStatus.DRAFT:
            raise ValidationError(f"Only a draft can be scheduled; this advisory is {advisory.get_status_display()}.")
        waves = list(advisory.waves.all())
        validate_release_plan(advisory, waves)
        if min(wave.scheduled_at for wave in waves) <= timezone.now():
            raise ValidationError("A release plan cannot start in the past.")
        advisory.schedule()
        advisory.save()
        record_audit_event(
            actor=actor,
            action="advisory.scheduled",
            target=advisory,
            details={AccessLevel(w.level).label: w.scheduled_at.isoformat() for w in waves},
        )
    return advisory


def validate_release_cohort(*, wave: ReleaseWave, scheduled_at: datetime, partners) -> None:
    """A cohort splits a scheduled early or standard wave, releases after it and no later than the public release,
    and takes partners that are in no other cohort of the wave."""
    if wave.status != WaveStatus.SCHEDULED:
        raise ValidationError("Only a scheduled wave can be split into cohorts.")
    if wave.level == AccessLevel.GENERIC:
        raise ValidationError("The generic wave is the public release; it has no cohorts.")
    if not wave.scheduled_at < scheduled_at <= wave.advisory.public_release_at:
        raise ValidationError(
            {"scheduled_at": "A cohort releases after its wave and no later than the public release."}
        )
    taken = ReleaseCohort.partners.through.objects.filter(
        releasecohort__wave=wave, partner_id__in=[p.pk for p in partners]
    )
    if taken.exists():
        raise ValidationError({"partners": "A partner can be in only one cohort of a wave."})


def plan_release_cohort(*, actor, wave: ReleaseWave, name: str, scheduled_at: datetime, partners) -> ReleaseCohort:
    """Split a scheduled early or standard wave: these partners receive it at `scheduled_at` instead of the wave's
    time. Refuses anyone but the advisory's assigned managers, a released or cancelled wave, a time not after the wave
    or after the public release, and a partner already in another cohort of the wave."""
    require_assigned_manager(actor, wave.advisory)
    with transaction.atomic():
        advisory = Advisory.objects.select_for_update().get(pk=wave.advisory_id)  # the plan's times, then the wave
        wave = ReleaseWave.objects.select_for_update().get(pk=wave.pk)
        wave.advisory = advisory
        partners = list(partners)
        validate_release_cohort(wave=wave, scheduled_at=scheduled_at, partners=partners)
        cohort = ReleaseCohort.objects.create(wave=wave, name=name, scheduled_at=scheduled_at)
        cohort.partners.set(partners)
        record_audit_event(
            actor=actor,
            action="cohort.planned",
            target=cohort,
            details={"scheduled_at": scheduled_at.isoformat(), "partners": sorted(p.pk for p in partners)},
        )
    return cohort


def set_release_plan(
    *,
    actor,
    advisory: Advisory,
    public_release_at: datetime,
    standard_at: datetime | None = None,
    early_at: datetime | None = None,
) -> Advisory:
    """Schedule (draft) or move (scheduled, released) the advisory's waves: one per level, early <= standard <=
    public release, the generic wave at public release. A wave left out is cancelled. A released wave is frozen:
    its time cannot change and it cannot be left out. Times not yet released must lie in the future. Audited with
    the plan before and after."""
    require_assigned_manager(actor, advisory)
    wanted = {AccessLevel.EARLY: early_at, AccessLevel.STANDARD: standard_at, AccessLevel.GENERIC: public_release_at}
    with transaction.atomic():
        advisory = Advisory.objects.select_for_update().get(pk=advisory.pk)
        if advisory.status in (AdvisoryStatus.PUBLIC, AdvisoryStatus.WITHDRAWN):
            raise ValidationError(f"The plan of a {advisory.get_status_display().lower()} advisory is final.")
        waves = {wave.level: wave for wave in advisory.waves.select_for_update()}
        before = _plan_summary(waves.values())
        errors = _release_plan_change_errors(waves, wanted, now=timezone.now())
        if errors:
            raise ValidationError(errors)
        _apply_release_plan(advisory, waves, wanted)
        advisory.public_release_at = public_release_at
        validate_release_plan(advisory, list(waves.values()))
        for wave in waves.values():
            wave.full_clean(exclude=["status", "advisory"])
            wave.save()
        action = "release_plan.moved"
        if advisory.status == AdvisoryStatus.DRAFT:
            advisory.schedule()
            action = "release_plan.scheduled"
        advisory.save()
        event = record_audit_event(
            actor=actor,
            action=action,
            target=advisory,
            details={"before": before, "after": _plan_summary(waves.values())},
        )
        _queue_change_events(advisory, event)
    return advisory


def _release_plan_change_errors(
    waves: dict[int, ReleaseWave], wanted: dict[int, datetime | None], *, now: datetime
) -> dict[str, list[str]]:
    """Every mistake of a wanted plan at once, keyed by form field: a released wave's time changed or left out, a
    time not yet released in the past, and the ordering mistakes."""
    errors: dict[str, list[str]] = {}
    for level, at in wanted.items():
        wave = waves.get(level)
        name = "public_release_at" if level == AccessLevel.GENERIC else f"{AccessLevel(level).label}_at"
        if wave is not None and wave.status == WaveStatus.RELEASED:
            if at != wave.scheduled_at:
                errors[name] = ["This wave has released; its time is frozen."]
        elif at is not None and at <= now:
            errors[name] = ["This time is in the past."]
    for name, messages in release_plan_order_errors(wanted).items():
        errors.setdefault(name, []).extend(messages)
    return errors


def _apply_release_plan(advisory: Advisory, waves: dict[int, ReleaseWave], wanted: dict[int, datetime | None]) -> None:
    """Set the wanted times on the waves not yet released (unsaved): a new wave for a level that had none, a
    cancelled wave rescheduled, a wave left out cancelled."""
    for level, at in wanted.items():
        wave = waves.get(level)
        if wave is not None and wave.status == WaveStatus.RELEASED:
            continue
        if at is None:
            if wave is not None and wave.status == WaveStatus.SCHEDULED:
                wave.cancel()
                wave.save()
            continue
        if wave is None:
            waves[level] = ReleaseWave(advisory=advisory, level=level, scheduled_at=at)
        else:
            if wave.status == WaveStatus.CANCELLED:
                wave.reschedule()
            wave.scheduled_at = at


def cancel_release_plan(*, actor, advisory: Advisory) -> Advisory:
    """Cancel every wave of a scheduled advisory before any has released; the advisory returns to draft."""
    require_assigned_manager(actor, advisory)
    with transaction.atomic():
        advisory = Advisory.objects.select_for_update().get(pk=advisory.pk)
        if advisory.status != AdvisoryStatus.SCHEDULED:
            raise ValidationError("Only a scheduled plan whose waves have not released can be cancelled.")
        waves = list(advisory.waves.select_for_update())
        before = _plan_summary(waves)
        for wave in waves:
            if wave.status == WaveStatus.SCHEDULED:
                wave.cancel()
                wave.save()
        advisory.unschedule()
        advisory.save()
        record_audit_event(actor=actor, action="release_plan.cancelled", target=advisory, details={"before": before})
    return advisory


def withdraw_advisory(*, actor, advisory: Advisory, reason: str) -> Advisory:
    """Withdraw an advisory: pending waves cancelled, every grant on it and its content removed (partner access
    ends at once), and a notice to every active member of each organisation that had received it. Audited."""
    require_assigned_manager(actor, advisory)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the advisory is withdrawn."})
    with transaction.atomic():
        advisory = Advisory.objects.select_for_update().get(pk=advisory.pk)
        if advisory.status == AdvisoryStatus.WITHDRAWN:
            raise ValidationError("The advisory is already withdrawn.")
        for wave in advisory.waves.select_for_update().filter(status=WaveStatus.SCHEDULED):
            wave.cancel()
            wave.save()
        advisory.withdraw()
        advisory.save()
        revoked = _revoke_advisory_grants(advisory)
        now = timezone.now()
        recipients = PartnerMembership.objects.filter(
            partner__deliveries__advisory=advisory, is_active=True, user__is_active=True
        ).values_list("user_id", "partner_id")
        Notice.objects.bulk_create(
            [
                Notice(
                    user_id=user_id,
                    partner_id=partner_id,
                    advisory=advisory,
                    kind=NoticeKind.WITHDRAWN,
                    created_at=now,
                )
                for user_id, partner_id in set(recipients)
            ],
            ignore_conflicts=True,
            batch_size=1000,
        )
        notice_ids = list(
            Notice.objects.filter(advisory=advisory, kind=NoticeKind.WITHDRAWN).values_list("pk", flat=True)
        )
        event = record_audit_event(
            actor=actor,
            action="advisory.withdrawn",
            target=advisory,
            details={"reason": reason, "grants_revoked": revoked, "notices": len(notice_ids)},
        )
        transaction.on_commit(lambda: _queue_notice_emails(notice_ids))
        _queue_change_events(advisory, event, event_type=WebhookEventType.WITHDRAWN)
    return advisory


def _queue_change_events(advisory: Advisory, event, *, event_type=WebhookEventType.UPDATED) -> None:
    """One webhook event for this audited change to the organisations holding the advisory, written in the change's
    transaction (the outbox) and sent after commit. (Only the release plan and a withdrawal can change what a holder
    sees: description fields change only before the first release, and content of a level is frozen once a wave
    carrying it has released.)"""
    queue_advisory_change_events(
        advisory_id=advisory.pk, event_type=event_type, change=event.action, change_id=f"audit:{event.pk}"
    )


def _revoke_advisory_grants(advisory: Advisory) -> int:
    removed = get_group_obj_perms_model(Advisory).objects.filter(content_object=advisory).delete()[0]
    removed += get_group_obj_perms_model(AdvisoryDocument).objects.filter(content_object__advisory=advisory).delete()[0]
    removed += get_group_obj_perms_model(Artifact).objects.filter(content_object__advisory=advisory).delete()[0]
    return removed


def _queue_notice_emails(notice_ids: list[int]) -> None:
    notices_to_email.send(sender=None, notice_ids=notice_ids)


def _plan_summary(waves) -> dict[str, str]:
    return {
        AccessLevel(wave.level).label: f"{wave.scheduled_at.isoformat()} ({wave.status})"
        for wave in sorted(waves, key=lambda w: -w.level)
    }
