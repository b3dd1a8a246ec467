"""Releasing: due waves and cohorts released by the embargo clock, and the one delivery path that writes
deliveries and grants (docs/architecture.md, "Release and the one delivery path")."""

from datetime import datetime

from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from guardian.utils import get_group_obj_perms_model

from advisories import fanout
from advisories.models import (
    Advisory,
    AdvisoryDocument,
    AdvisoryStatus,
    Artifact,
    ReleaseCohort,
    ReleaseWave,
    WaveStatus,
)
from advisories.signals import deliveries_to_notify
from advisories.webhooks.services import queue_publication_events
from core.clock import embargo_now
from core.levels import AccessLevel
from core.services import record_audit_event
from partners.models import Partner

RELEASABLE_ADVISORY_STATES = (AdvisoryStatus.SCHEDULED, AdvisoryStatus.RELEASED)


def deliver_due_waves(
    *,
    at: datetime | None = None,
    partner_ids: list[int] | None = None,
    advisory_ids: list[int] | None = None,
    wave_ids: list[int] | None = None,
) -> list[int]:
    """The only writer of deliveries: deliver everything `selectors.due_deliveries` says is due at `at` (default:
    now by the embargo clock, core/clock.py), optionally narrowed to some partners, advisories or waves. One
    transaction: the advisories concerned are locked first (by id), then the due set is read and the deliveries and
    grants are written, so that concurrent runs never deliver one wave twice (a database constraint backs it).
    One `deliveries.created` audit event when anything was delivered; after commit, notices for the deliveries of
    advisories under embargo and of a public release itself. A public advisory delivered later (the public archive)
    is silent. Returns the new delivery ids."""
    with transaction.atomic():
        at = at or embargo_now()
        advisories = Advisory.objects.select_for_update().filter(
            status__in=(AdvisoryStatus.RELEASED, AdvisoryStatus.PUBLIC)
        )
        if advisory_ids is not None:
            advisories = advisories.filter(pk__in=advisory_ids)
        if wave_ids is not None:
            advisories = advisories.filter(pk__in=ReleaseWave.objects.filter(pk__in=wave_ids).values("advisory_id"))
        locked = list(advisories.order_by("pk").values_list("pk", flat=True))
        if not locked:
            return []
        delivered = fanout.insert_due_deliveries(at=at, partner_ids=partner_ids, advisory_ids=locked, wave_ids=wave_ids)
        if not delivered.delivery_ids:
            return []
        record_audit_event(
            actor=None,
            action="deliveries.created",
            details={
                "deliveries": len(delivered.delivery_ids),
                "public_archive": delivered.public_archive,
                "partners": delivered.partners,
                "advisories": delivered.advisories,
                "at": at.isoformat(),
            },
        )
        if delivered.announced:
            transaction.on_commit(lambda: _queue_release_notices(delivered.announced))
    return delivered.delivery_ids


def reconcile_deliveries(*, embargoed_only: bool = False, now: datetime | None = None) -> list[int]:
    """The safety net of the one delivery path: deliver whatever is due and missing (a lost task message, a cap or
    agreement that ended by the clock), to every partner; for advisories still under embargo only, or for all
    (the public archive too). Returns the new delivery ids."""
    advisory_ids = None
    if embargoed_only:
        advisory_ids = list(Advisory.objects.filter(status=AdvisoryStatus.RELEASED).values_list("pk", flat=True))
    return deliver_due_waves(at=now, advisory_ids=advisory_ids)


def release_wave(*, wave: ReleaseWave, at: datetime) -> list[int]:
    """Release one locked, due wave (its advisory locked too): the wave marked released, the advisory's status
    advanced, then the deliveries due by the one delivery path (partners of a cohort still to come wait for it),
    an audit event. Returns the new delivery ids."""
    advisory = wave.advisory
    wave.mark_released()
    wave.released_at = at
    wave.save(update_fields=["status", "released_at"])
    if advisory.status == AdvisoryStatus.SCHEDULED:
        advisory.mark_released()
    became_public = wave.level == AccessLevel.GENERIC and advisory.status == AdvisoryStatus.RELEASED
    if became_public:
        advisory.mark_public()
    advisory.save(update_fields=["status", "updated_at"])
    if became_public:
        # Written in the release's transaction (the outbox), sent after commit.
        queue_publication_events(advisory_id=advisory.pk)
    delivery_ids = deliver_due_waves(at=at, advisory_ids=[advisory.pk])
    record_audit_event(
        actor=None,
        action="wave.released",
        target=wave,
        details={
            "advisory": advisory.identifier,
            "level": AccessLevel(wave.level).label,
            "scheduled_at": wave.scheduled_at.isoformat(),
            "released_at": at.isoformat(),
            "deliveries": len(delivery_ids),
        },
    )
    return delivery_ids


def _queue_release_notices(delivery_ids: list[int]) -> None:
    deliveries_to_notify.send(sender=None, delivery_ids=delivery_ids)


def release_due_waves(*, now: datetime | None = None) -> list[int]:
    """Release every wave whose time has come by the database's clock (core/clock.py), each in its own
    transaction, oldest first and the earliest level first. An advisory locked by a concurrent run (or a plan
    change) is skipped, so two runs never release one wave twice; a wave whose time has not come is never touched.
    Returns the ids of the waves released."""
    released = []
    while True:
        with transaction.atomic():
            at = now or embargo_now()
            # The advisory first, then its wave: the order every service that changes a plan takes
            # (docs/architecture.md, "Locks"). An advisory locked by a concurrent run or a plan change is skipped
            # and picked up by the next run.
            due_waves = ReleaseWave.objects.filter(status=WaveStatus.SCHEDULED, scheduled_at__lte=at)
            advisory = (
                Advisory.objects.select_for_update(skip_locked=True)
                .filter(status__in=RELEASABLE_ADVISORY_STATES, pk__in=due_waves.values("advisory_id"))
                .annotate(
                    first_due=Subquery(
                        due_waves.filter(advisory=OuterRef("pk")).order_by("scheduled_at").values("scheduled_at")[:1]
                    )
                )
                .order_by("first_due", "pk")
                .first()
            )
            if advisory is None:
                break
            wave = (
                advisory.waves.select_for_update().filter(pk__in=due_waves).order_by("scheduled_at", "-level").first()
            )
            if wave is None:  # released or moved by a transaction that committed after the advisory was chosen
                continue
            wave.advisory = advisory
            release_wave(wave=wave, at=at)
        released.append(wave.pk)
    release_due_cohorts(now=now)
    return released


def release_due_cohorts(*, now: datetime | None = None) -> list[int]:
    """Deliver every cohort whose time has come, of a wave already released, each in its own transaction (its
    advisory, then the cohort, locked with skip_locked like waves, so concurrent runs never deliver a cohort twice).
    Returns the cohort ids."""
    released = []
    while True:
        with transaction.atomic():
            at = now or embargo_now()
            # The advisory first, then its cohort (docs/architecture.md, "Locks"), both skipped when a concurrent
            # run holds them.
            due_cohorts = ReleaseCohort.objects.filter(
                released_at__isnull=True, scheduled_at__lte=at, wave__status=WaveStatus.RELEASED
            )
            advisory = (
                Advisory.objects.select_for_update(skip_locked=True)
                .filter(pk__in=due_cohorts.values("wave__advisory_id"))
                .annotate(
                    first_due=Subquery(
                        due_cohorts.filter(wave__advisory=OuterRef("pk"))
                        .order_by("scheduled_at")
                        .values("scheduled_at")[:1]
                    )
                )
                .order_by("first_due", "pk")
                .first()
            )
            if advisory is None:
                return released
            cohort = (
                due_cohorts.select_for_update(skip_locked=True, of=("self",))
                .select_related("wave__advisory")
                .filter(wave__advisory=advisory)
                .order_by("scheduled_at", "pk")
                .first()
            )
            if cohort is None:  # delivered by a transaction that committed after the advisory was chosen
                continue
            delivery_ids = deliver_due_waves(
                at=at,
                partner_ids=list(cohort.partners.values_list("pk", flat=True)),
                advisory_ids=[cohort.wave.advisory_id],
            )
            cohort.released_at = at
            cohort.save(update_fields=["released_at"])
            record_audit_event(
                actor=None,
                action="cohort.released",
                target=cohort,
                details={
                    "advisory": cohort.wave.advisory.identifier,
                    "level": AccessLevel(cohort.wave.level).label,
                    "scheduled_at": cohort.scheduled_at.isoformat(),
                    "released_at": at.isoformat(),
                    "deliveries": len(delivery_ids),
                },
            )
        released.append(cohort.pk)


def revoke_partner_grants(*, partner_id: int) -> int:
    """Delete every object permission the organisation's Group holds (on removal). Access already ended with its
    status; this is the clean-up."""
    group_id = Partner.objects.filter(pk=partner_id).values_list("group_id", flat=True).first()
    removed = 0
    with transaction.atomic():
        for model in (Advisory, AdvisoryDocument, Artifact):
            removed += get_group_obj_perms_model(model).objects.filter(Q(group_id=group_id)).delete()[0]
        record_audit_event(
            actor=None,
            action="partner.grants_revoked",
            target=Partner.objects.get(pk=partner_id),
            details={"removed": removed},
        )
    return removed
