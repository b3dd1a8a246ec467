import hashlib
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.mail import EmailMessage, get_connection, send_mail
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from guardian.shortcuts import assign_perm
from guardian.utils import get_group_obj_perms_model

from advisories import fanout, selectors
from advisories.models import (
    Advisory,
    AdvisoryCVE,
    AdvisoryDocument,
    AdvisoryStatus,
    Artifact,
    Delivery,
    DownloadEvent,
    EmailMode,
    HandlingAcknowledgement,
    LeakIncident,
    LeakSample,
    Notice,
    NoticeKind,
    NoticePreference,
    PortalVisit,
    ReleaseCohort,
    ReleaseWave,
    WaveStatus,
    WebhookEventType,
)
from advisories.validators import SNIFF_BYTES, normalise_cve_ids, score_cvss_vector, sniff_artifact_content_type
from advisories.webhooks.services import (
    queue_advisory_change_events,
    queue_delivery_events,
    queue_publication_events,
)
from compliance.entitlements import PartnerAccess, object_level
from compliance.models import Violation, ViolationKind, ViolationSeverity
from compliance.services import report_violation
from core.clock import embargo_now
from core.levels import AccessLevel
from core.roles import is_program_manager, require_compliance_officer, require_program_manager
from core.services import record_audit_event
from partners.models import Partner, PartnerMembership

logger = logging.getLogger(__name__)

RELEASABLE_ADVISORY_STATES = (AdvisoryStatus.SCHEDULED, AdvisoryStatus.RELEASED)
# The object permission that assigns a program manager to an advisory (need-to-know before release).
EDIT_ADVISORY = "advisories.edit_advisory"


# Authoring (the manager UI comes later; the Django admin calls these) ------------------------------------------


def next_advisory_identifier(year: int) -> str:
    prefix = f"FWN-{year}-"
    numbers = [
        int(i.removeprefix(prefix))
        for i in Advisory.objects.filter(identifier__startswith=prefix).values_list("identifier", flat=True)
    ]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


def create_advisory(*, actor, title: str, public_release_at: datetime, **fields) -> Advisory:
    """Create a draft advisory with the next free FWN-YYYY-NNNN identifier; its creator is assigned to it (the
    `edit_advisory` object permission). CVE ids are validated and must be new to the program; a CVSS v3.1 vector
    is validated and scored (any score passed in is replaced by the computed one)."""
    require_program_manager(actor)
    fields["cve_ids"] = normalise_cve_ids(fields.get("cve_ids", []))
    fields["cvss_vector"], fields["cvss_score"] = score_cvss_vector(fields.get("cvss_vector", ""))
    for attempt in range(5):
        try:
            with transaction.atomic():
                advisory = Advisory(title=title, public_release_at=public_release_at, **fields)
                advisory.identifier = next_advisory_identifier(timezone.now().year)
                advisory.full_clean(exclude=["status"])
                advisory.save()
                index_cve_ids(advisory=advisory)
                assign_perm(EDIT_ADVISORY, actor, advisory)
                record_audit_event(actor=actor, action="advisory.created", target=advisory)
                return advisory
        except IntegrityError:
            taken = taken_cve_ids(fields["cve_ids"])
            if taken:
                raise ValidationError({"cve_ids": cve_taken_message(taken)}) from None
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def taken_cve_ids(cve_ids: list[str], *, except_advisory: Advisory | None = None) -> dict[str, str]:
    """Which of `cve_ids` another advisory already names: CVE id -> that advisory's identifier."""
    records = AdvisoryCVE.objects.filter(cve_id__in=cve_ids).select_related("advisory")
    if except_advisory is not None:
        records = records.exclude(advisory=except_advisory)
    return {record.cve_id: record.advisory.identifier for record in records}


def cve_taken_message(taken: dict[str, str]) -> str:
    return "Already named by another advisory: " + ", ".join(f"{cve} ({ident})" for cve, ident in taken.items()) + "."


def index_cve_ids(*, advisory: Advisory) -> None:
    """Make the unique CVE index match `advisory.cve_ids` (an IntegrityError when another advisory holds one)."""
    AdvisoryCVE.objects.filter(advisory=advisory).exclude(cve_id__in=advisory.cve_ids).delete()
    held = set(AdvisoryCVE.objects.filter(advisory=advisory).values_list("cve_id", flat=True))
    for cve_id in advisory.cve_ids:
        if cve_id not in held:
            AdvisoryCVE.objects.create(advisory=advisory, cve_id=cve_id)


STORAGE_FAILED_MESSAGE = (
    "The file could not be stored: the file store is full or not writable. Nothing was saved; try again later, "
    "and tell the operators if it persists."
)


def store_artifact(*, actor, artifact: Artifact, uploaded_file) -> Artifact:
    """Save an artifact file to private storage with its size and sha256, its content type recognised from its
    first bytes (never the name or the browser's claim). Refuses files over the size limit and any type other than
    text, ZIP or PDF (executables, HTML). Refuses anyone but the advisory's assigned managers."""
    require_assigned_manager(actor, artifact.advisory)
    if uploaded_file.size > settings.ARTIFACT_MAX_BYTES:
        raise ValidationError({"file": f"Files may be at most {settings.ARTIFACT_MAX_BYTES // (1024 * 1024)} MiB."})
    uploaded_file.seek(0)
    try:
        content_type = sniff_artifact_content_type(uploaded_file.read(SNIFF_BYTES))
    except ValidationError as error:
        raise ValidationError({"file": error.messages}) from None
    uploaded_file.seek(0)
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    with transaction.atomic():
        artifact.sha256 = digest.hexdigest()
        artifact.size = uploaded_file.size
        artifact.content_type = content_type
        try:
            artifact.file.save(uploaded_file.name, uploaded_file, save=False)
        except OSError:
            # A full or read-only store: the storage removed any partial file; no row is written.
            logger.exception("Could not store artifact file %s for %s", uploaded_file.name, artifact.advisory)
            raise ValidationError({"file": STORAGE_FAILED_MESSAGE}) from None
        artifact.save()
        record_audit_event(
            actor=actor,
            action="artifact.stored",
            target=artifact,
            details={"sha256": artifact.sha256, "size": artifact.size, "content_type": content_type},
        )
    return artifact


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


# Release ---------------------------------------------------------------------------------------------------------


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
    from advisories.tasks import send_release_notices

    batch_size = settings.RELEASE_NOTICE_BATCH_SIZE
    for start in range(0, len(delivery_ids), batch_size):
        _hand_to_broker(send_release_notices, delivery_ids[start : start + batch_size])


def _hand_to_broker(task, ids: list[int]) -> None:
    """Queue `task(ids)` now if the broker answers. The rows themselves are the outbox (a delivery not yet notified,
    a notice not yet emailed), so when the broker is down the work is not lost: `dispatch_pending_notices` finds it
    on its next run. The committed change that called this must not fail because the broker did."""
    try:
        task.delay(ids)
    except Exception:  # kombu raises its own OperationalError, redis-py and sockets others: all mean "not queued"
        logger.warning("Broker unavailable: %s for %d rows left to the notice dispatcher", task.name, len(ids))


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


def send_release_notices(*, delivery_ids: list[int]) -> int:
    """Put a notice in the inbox of every active member of each organisation that received one of these
    deliveries (at most one per user and wave: a database constraint) and the `advisory.delivered` webhook events,
    commit, then email those who want immediate email. Inbox notices, webhook events and the deliveries'
    `notified_at` are one transaction: a failure there leaves both
    untouched and no email sent, and the retry (or the dispatcher) starts again. A retried or concurrent run finds
    the deliveries already notified (or locked) and creates nothing. Returns the number of emails sent."""
    with transaction.atomic():
        deliveries = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("advisory", "partner")
            .filter(pk__in=delivery_ids, notified_at__isnull=True)
        )
        if not deliveries:
            return 0
        now = timezone.now()
        members_by_partner: dict[int, list[int]] = {}
        for partner_id, user_id in PartnerMembership.objects.filter(
            partner_id__in={d.partner_id for d in deliveries}, is_active=True, user__is_active=True
        ).values_list("partner_id", "user_id"):
            members_by_partner.setdefault(partner_id, []).append(user_id)
        Notice.objects.bulk_create(
            [
                Notice(
                    user_id=user_id,
                    partner_id=delivery.partner_id,
                    advisory_id=delivery.advisory_id,
                    wave_id=delivery.wave_id,
                    kind=NoticeKind.RELEASED,
                    level=delivery.level,
                    created_at=now,
                )
                for delivery in deliveries
                for user_id in members_by_partner.get(delivery.partner_id, [])
            ],
            ignore_conflicts=True,
            batch_size=1000,
        )
        Delivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(notified_at=now)
        # The organisations' webhook events are written in the same transaction, so they are never lost either.
        queue_delivery_events([d.pk for d in deliveries])
        notice_ids = list(
            Notice.objects.filter(
                kind=NoticeKind.RELEASED,
                wave_id__in={d.wave_id for d in deliveries},
                partner_id__in={d.partner_id for d in deliveries},
                emailed_at__isnull=True,
            ).values_list("pk", flat=True)
        )
    return email_notices(notice_ids=notice_ids)


def _wants_email(mode: str):
    """Users whose preference is `mode` (no preference row means immediate)."""
    if mode == EmailMode.IMMEDIATE:
        return Q(user__notice_preference__isnull=True) | Q(user__notice_preference__email_mode=mode)
    return Q(user__notice_preference__email_mode=mode)


def notice_link(notice: Notice) -> str:
    return f"{settings.FOREWARN_PORTAL_URL}/portal/advisories/{notice.advisory.identifier}/"


def notice_summary(notice: Notice) -> str:
    """One line naming the advisory and what happened: the identifier, the title and the level, nothing more.
    Email bodies are built only from this, so no embargoed content (descriptions, files) ever leaves the portal."""
    advisory = notice.advisory
    if notice.kind == NoticeKind.WITHDRAWN:
        return f'{advisory.identifier} "{advisory.title}" was withdrawn; it is no longer available.'
    return f'{advisory.identifier} "{advisory.title}" is available at the {notice.get_level_display()} level.'


def email_notices(*, notice_ids: list[int]) -> int:
    """Email each of these notices not yet emailed whose user wants immediate email, exactly once per notice: each
    notice is locked, sent and marked in its own transaction, so a failure part-way (SMTP refusing, the database
    gone) keeps every email already sent marked and raises for the rest, which a retry sends. The one window for a
    second email is a crash after the SMTP server accepted a message and before its mark commits (docs/deploy.md).
    Returns the number of emails sent."""
    if not notice_ids:
        return 0
    sent = 0
    with get_connection() as smtp:
        for notice_id in sorted(set(notice_ids)):
            with transaction.atomic():
                notice = (
                    Notice.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("advisory", "user", "partner")
                    .filter(
                        _wants_email(EmailMode.IMMEDIATE), pk=notice_id, emailed_at__isnull=True, user__is_active=True
                    )
                    .first()
                )
                if notice is None:
                    continue
                subject, body = _notice_email(notice)
                EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [notice.user.email], connection=smtp).send()
                Notice.objects.filter(pk=notice.pk).update(emailed_at=timezone.now())
            sent += 1
    return sent


def _notice_email(notice: Notice) -> tuple[str, str]:
    advisory = notice.advisory
    verb = "withdrawn" if notice.kind == NoticeKind.WITHDRAWN else f"released ({notice.get_level_display()})"
    subject = f"[Forewarn] {advisory.identifier} {verb}"
    body = (
        f"{notice_summary(notice)}\n\n"
        f"Organisation: {notice.partner}\n"
        f"Open it in the portal: {notice_link(notice)}\n\n"
        f"Handle according to {advisory.get_tlp_display()} and your program agreement.\n"
        f"Change how you receive notices: {settings.FOREWARN_PORTAL_URL}/portal/notices/preferences/"
    )
    return subject, body


def dispatch_pending_notices(*, now: datetime | None = None) -> dict[str, int]:
    """The outbox's safety net, run by beat: notify every delivery and email every immediate notice that should
    have been handled after its transaction committed but was not (the broker was down, a worker died, a retry gave
    up). Only rows older than NOTICE_DISPATCH_GRACE_SECONDS (their own task normally runs first; both are idempotent
    anyway) and younger than NOTICE_DISPATCH_MAX_AGE_HOURS (a notice days late would mislead more than inform;
    `release_pipeline_status` reports those). Returns what was done."""
    now = now or timezone.now()
    newest = now - timedelta(seconds=settings.NOTICE_DISPATCH_GRACE_SECONDS)
    oldest = now - timedelta(hours=settings.NOTICE_DISPATCH_MAX_AGE_HOURS)
    batch_size = settings.RELEASE_NOTICE_BATCH_SIZE
    delivery_ids = list(
        Delivery.objects.filter(notified_at__isnull=True, delivered_at__range=(oldest, newest))
        .order_by("delivered_at", "pk")
        .values_list("pk", flat=True)
    )
    emails = 0
    for start in range(0, len(delivery_ids), batch_size):
        emails += send_release_notices(delivery_ids=delivery_ids[start : start + batch_size])
    notice_ids = list(
        Notice.objects.filter(
            _wants_email(EmailMode.IMMEDIATE),
            emailed_at__isnull=True,
            user__is_active=True,
            created_at__range=(oldest, newest),
        )
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)
    )
    for start in range(0, len(notice_ids), batch_size):
        emails += email_notices(notice_ids=notice_ids[start : start + batch_size])
    return {"deliveries": len(delivery_ids), "emails": emails}


def send_notice_digests(*, now: datetime | None = None) -> int:
    """One email per user who chose the daily digest, listing every notice not yet emailed to them (identifier,
    title, level and link only). Each user's notices are locked and marked in one transaction, so a concurrent or
    repeated run sends nothing twice. Returns the number of digests sent."""
    now = now or timezone.now()
    user_ids = list(
        Notice.objects.filter(_wants_email(EmailMode.DAILY), emailed_at__isnull=True, created_at__lte=now)
        .values_list("user_id", flat=True)
        .distinct()
        .order_by("user_id")
    )
    sent = 0
    for user_id in user_ids:
        with transaction.atomic():
            notices = list(
                Notice.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("advisory", "user")
                .filter(
                    _wants_email(EmailMode.DAILY),
                    user_id=user_id,
                    user__is_active=True,
                    emailed_at__isnull=True,
                    created_at__lte=now,
                )
                .order_by("created_at", "id")
            )
            if not notices:
                continue
            lines = [f"- {notice_summary(n)}\n  {notice_link(n)}" for n in notices]
            body = (
                f"Your Forewarn notices of the last day ({len(notices)}):\n\n"
                + "\n".join(lines)
                + f"\n\nChange how you receive notices: {settings.FOREWARN_PORTAL_URL}/portal/notices/preferences/"
            )
            send_mail(
                f"[Forewarn] Daily digest: {len(notices)} notice{'s' if len(notices) != 1 else ''}",
                body,
                settings.DEFAULT_FROM_EMAIL,
                [notices[0].user.email],
                fail_silently=False,
            )
            Notice.objects.filter(pk__in=[n.pk for n in notices]).update(emailed_at=timezone.now())
            sent += 1
    return sent


def mark_notices_read(*, user, notice_ids: list[int] | None = None) -> int:
    """Mark the user's own notices read (all unread ones when `notice_ids` is None). Returns how many changed."""
    notices = Notice.objects.filter(user=user, read_at__isnull=True)
    if notice_ids is not None:
        notices = notices.filter(pk__in=notice_ids)
    return notices.update(read_at=timezone.now())


def set_notice_preference(*, user, email_mode: str) -> NoticePreference:
    """Record how a partner user wants notices by email (immediate, daily digest or none)."""
    if email_mode not in EmailMode.values:
        raise ValidationError({"email_mode": "Choose immediate, daily or none."})
    with transaction.atomic():
        preference, _ = NoticePreference.objects.update_or_create(user=user, defaults={"email_mode": email_mode})
        record_audit_event(actor=user, action="notice_preference.changed", target=user, details={"mode": email_mode})
    return preference


# Partner access records ------------------------------------------------------------------------------------------


def record_access(
    *,
    access: PartnerAccess,
    user,
    advisory: Advisory,
    kind: str,
    artifact: Artifact | None = None,
    ip_address=None,
    user_agent="",
) -> DownloadEvent:
    """Record a partner user's view, download or export, tied to the delivery through which the organisation holds
    it, and to the API token when the access came through the API."""
    needed = object_level(artifact) if artifact is not None else AccessLevel.GENERIC
    delivery = (
        Delivery.objects.filter(partner=access.partner, advisory=advisory, level__gte=needed)
        .order_by("-delivered_at")
        .first()
    )
    return DownloadEvent.objects.create(
        user=user,
        partner=access.partner,
        advisory=advisory,
        artifact=artifact,
        delivery=delivery,
        kind=kind,
        api_token=access.api_token,
        ip_address=ip_address,
        user_agent=(user_agent or "")[:500],
    )


def acknowledge_handling(
    *, access: PartnerAccess, user, advisory: Advisory, ip_address=None, user_agent: str = ""
) -> HandlingAcknowledgement:
    """Record that a partner user acknowledged the advisory's TLP label and handling terms, once: a second call
    returns the first acknowledgement unchanged. The caller has already resolved the advisory through the
    entitlement selectors (the user may see it)."""
    with transaction.atomic():
        acknowledgement, created = HandlingAcknowledgement.objects.get_or_create(
            user=user,
            advisory=advisory,
            defaults={
                "partner": access.partner,
                "tlp": advisory.tlp,
                "acknowledged_at": timezone.now(),
                "ip_address": ip_address,
                "user_agent": (user_agent or "")[:500],
            },
        )
        if created:
            record_audit_event(
                actor=user,
                action="advisory.handling_acknowledged",
                target=advisory,
                details={"partner": access.partner.pk, "tlp": advisory.tlp},
                ip_address=ip_address,
            )
    return acknowledgement


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


# Program manager authoring, release plans and withdrawal -----------------------------------------------------------


def require_assigned_manager(actor, advisory: Advisory) -> None:
    """Refuse unless the actor is a program manager assigned to the advisory (need-to-know)."""
    from advisories.need_to_know import is_assigned_manager

    require_program_manager(actor)
    if not is_assigned_manager(actor, advisory):
        raise PermissionDenied("Only the program managers assigned to this advisory may change it.")


def content_is_frozen(advisory: Advisory, level: int) -> bool:
    """Content of `level` is frozen once a wave that carries it (any wave of that level or above) has released, or
    when the advisory is withdrawn: partners hold what they received, and a later change would reach nobody."""
    if advisory.status == AdvisoryStatus.WITHDRAWN:
        return True
    return advisory.waves.filter(status=WaveStatus.RELEASED, level__gte=level).exists()


def update_advisory(
    *,
    actor,
    advisory: Advisory,
    title: str,
    cve_ids,
    affected_products: str,
    cvss_vector: str,
    tlp: str,
    product_identifiers: dict | None = None,
    cwe_id: str | None = None,
    fingerprint_letters: bool | None = None,
) -> Advisory:
    """Change an advisory's description fields before its first release. CVE ids are validated and must not be
    named by another advisory; the CVSS v3.1 vector is validated and re-scored. Product identifiers (CPE, PURL),
    the CWE and the fingerprint's letter layer stay as they are when not given; turning the letter layer on or off
    is audited (it changes what every later copy looks like)."""
    require_assigned_manager(actor, advisory)
    cve_ids = normalise_cve_ids(cve_ids)
    cvss_vector, cvss_score = score_cvss_vector(cvss_vector)
    with transaction.atomic():
        advisory = Advisory.objects.select_for_update().get(pk=advisory.pk)
        if advisory.status not in (AdvisoryStatus.DRAFT, AdvisoryStatus.SCHEDULED):
            raise ValidationError("A released or withdrawn advisory can no longer be edited.")
        taken = taken_cve_ids(cve_ids, except_advisory=advisory)
        if taken:
            raise ValidationError({"cve_ids": cve_taken_message(taken)})
        before = {
            "title": advisory.title,
            "cve_ids": advisory.cve_ids,
            "cvss_vector": advisory.cvss_vector,
            "fingerprint_letters": advisory.fingerprint_letters,
        }
        if fingerprint_letters is not None:
            advisory.fingerprint_letters = fingerprint_letters
        advisory.title, advisory.cve_ids, advisory.affected_products = title, cve_ids, affected_products
        advisory.cvss_vector, advisory.cvss_score, advisory.tlp = cvss_vector, cvss_score, tlp
        if product_identifiers is not None:
            advisory.product_identifiers = product_identifiers
        if cwe_id is not None:
            advisory.cwe_id = cwe_id
        advisory.full_clean(exclude=["status", "identifier"])
        advisory.save()
        try:
            with transaction.atomic():
                index_cve_ids(advisory=advisory)
        except IntegrityError:  # another advisory took one of these CVE ids since the check above
            raise ValidationError(
                {"cve_ids": cve_taken_message(taken_cve_ids(cve_ids, except_advisory=advisory))}
            ) from None
        record_audit_event(actor=actor, action="advisory.updated", target=advisory, details={"before": before})
    return advisory


def save_document(*, actor, advisory: Advisory, level: int, title: str, body_markdown: str) -> AdvisoryDocument:
    """Create or replace the advisory's generic or standard description, until a wave carrying it has released."""
    require_assigned_manager(actor, advisory)
    if level not in (AccessLevel.GENERIC, AccessLevel.STANDARD):
        raise ValidationError({"level": "Descriptions are generic or standard."})
    with transaction.atomic():
        advisory = Advisory.objects.select_for_update().get(pk=advisory.pk)
        if content_is_frozen(advisory, level):
            raise ValidationError("This description has been released (or the advisory withdrawn); it is frozen.")
        document = AdvisoryDocument.objects.filter(advisory=advisory, level=level).first() or AdvisoryDocument(
            advisory=advisory, level=level
        )
        document.title, document.body_markdown = title, body_markdown
        document.full_clean()
        document.save()
        record_audit_event(
            actor=actor,
            action="document.saved",
            target=document,
            details={"sha256": hashlib.sha256(body_markdown.encode()).hexdigest()},
        )
    return document


def add_artifact(*, actor, advisory: Advisory, level: int, name: str, description: str, uploaded_file) -> Artifact:
    """Upload a file for partners of `level` (standard or early). Its type is recognised from its content (text,
    ZIP or PDF; never executables or HTML), its size limited, its sha256 recorded; refused once a wave carrying
    that level has released."""
    require_assigned_manager(actor, advisory)
    if level not in (AccessLevel.STANDARD, AccessLevel.EARLY):
        raise ValidationError({"level": "Files are standard or early."})
    if content_is_frozen(advisory, level):
        raise ValidationError("Files of this level have been released (or the advisory withdrawn); add none now.")
    artifact = Artifact(advisory=advisory, level=level, name=name, description=description)
    artifact.full_clean(exclude=["file", "size", "sha256"])
    return store_artifact(actor=actor, artifact=artifact, uploaded_file=uploaded_file)


def assign_advisory_manager(*, actor, advisory: Advisory, manager) -> None:
    """Give another program manager need-to-know access to the advisory (the `edit_advisory` object permission)."""
    require_assigned_manager(actor, advisory)
    if not is_program_manager(manager):
        raise ValidationError({"manager": "Only program managers can be assigned to an advisory."})
    with transaction.atomic():
        assign_perm(EDIT_ADVISORY, manager, advisory)
        record_audit_event(
            actor=actor, action="advisory.manager_assigned", target=advisory, details={"manager": str(manager)}
        )


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
        now = timezone.now()
        errors = {}
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
        if errors:
            raise ValidationError(errors)
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
    from advisories.tasks import email_notices

    batch_size = settings.RELEASE_NOTICE_BATCH_SIZE
    for start in range(0, len(notice_ids), batch_size):
        _hand_to_broker(email_notices, notice_ids[start : start + batch_size])


def _plan_summary(waves) -> dict[str, str]:
    return {
        AccessLevel(wave.level).label: f"{wave.scheduled_at.isoformat()} ({wave.status})"
        for wave in sorted(waves, key=lambda w: -w.level)
    }


# Leak investigations ---------------------------------------------------------------------------------------------

MAX_SAMPLE_CHARS = 200_000


def open_leak_incident(
    *,
    actor,
    advisory: Advisory,
    observed_at: datetime,
    description: str,
    sample_text: str = "",
    sample_source: str = "",
) -> LeakIncident:
    """Open a leak investigation for an advisory, with the time the leak or exploitation was first observed and,
    optionally, a leaked sample (traced at once). Compliance officers only; refuses an observation in the future."""
    require_compliance_officer(actor)
    if observed_at > timezone.now():
        raise ValidationError({"observed_at": "The observation time cannot be in the future."})
    with transaction.atomic():
        incident = LeakIncident(advisory=advisory, observed_at=observed_at, description=description, opened_by=actor)
        incident.full_clean()
        incident.save()
        record_audit_event(
            actor=actor,
            action="leak.incident_opened",
            target=incident,
            details={"advisory": advisory.identifier, "observed_at": observed_at.isoformat()},
        )
        if sample_text.strip():
            add_leak_sample(actor=actor, incident=incident, text=sample_text, source=sample_source)
    return incident


def add_leak_sample(*, actor, incident: LeakIncident, text: str, source: str = "") -> LeakSample:
    """Attach a leaked text to an investigation and trace it against every served copy of the advisory; the
    result (ranked copies, or "no match") is kept with the sample as evidence. Compliance officers only."""
    require_compliance_officer(actor)
    if not text.strip():
        raise ValidationError({"text": "The sample is empty."})
    if len(text) > MAX_SAMPLE_CHARS:
        raise ValidationError({"text": f"Samples may be at most {MAX_SAMPLE_CHARS} characters."})
    result = selectors.trace_sample(advisory=incident.advisory, text=text)
    with transaction.atomic():
        sample = LeakSample.objects.create(
            incident=incident, text=text, source=source[:300], trace_result=result.as_json(), submitted_by=actor
        )
        match = result.match
        record_audit_event(
            actor=actor,
            action="leak.sample_traced",
            target=incident,
            details={
                "sample": sample.pk,
                "slots": result.slots,
                "candidates": result.candidates,
                "match_delivery": match.delivery.pk if match else None,
                "match_user": match.user.pk if match else None,
                "adjusted_p_value": match.adjusted_p_value if match else None,
            },
        )
    return sample


def open_violation_for_suspect(
    *, actor, incident: LeakIncident, partner: Partner, severity: str = ViolationSeverity.HIGH
) -> Violation:
    """Open a leak violation against an organisation that held the advisory before the observation, with the
    evidence attached: the incident, the organisation's exposure (deliveries, accesses, risk factors) and every
    sample trace that names it. Refuses an organisation that was not exposed."""
    require_compliance_officer(actor)
    exposure = next((e for e in selectors.exposure_report(incident=incident) if e.partner.pk == partner.pk), None)
    if exposure is None:
        raise ValidationError("This organisation did not hold the advisory before the leak was observed.")
    traces = [
        {"sample": sample.pk, "source": sample.source, "match": sample.trace_result["match"]}
        for sample in incident.samples.all()
        if (sample.trace_result or {}).get("match") and sample.trace_result["match"]["partner"] == partner.pk
    ]
    evidence = {
        "leak_incident": incident.pk,
        "advisory": incident.advisory.identifier,
        "observed_at": incident.observed_at.isoformat(),
        "description": incident.description,
        "exposure": {
            "level": exposure.level_label,
            "deliveries": [
                {"id": d.pk, "level": d.get_level_display(), "at": d.delivered_at.isoformat()}
                for d in exposure.deliveries
            ],
            "first_access_at": exposure.first_access.created_at.isoformat() if exposure.first_access else None,
            "people": exposure.people,
            "ip_addresses": exposure.ip_addresses,
            "risk_factors": exposure.risk_factors,
        },
        "fingerprint_traces": traces,
    }
    with transaction.atomic():
        violation = report_violation(
            actor=actor,
            partner=partner,
            kind=ViolationKind.LEAK,
            severity=severity,
            summary=f"Suspected leak of {incident.advisory.identifier} "
            f"(observed {incident.observed_at:%Y-%m-%d %H:%M} UTC)",
            evidence=evidence,
            related_advisories=[incident.advisory.identifier],
        )
        incident.violations.add(violation)
        record_audit_event(
            actor=actor,
            action="leak.violation_opened",
            target=incident,
            details={"violation": violation.pk, "partner": partner.pk},
        )
    return violation


# Partner dashboard -------------------------------------------------------------------------------------------------


def record_portal_visit(*, user, at: datetime | None = None) -> datetime | None:
    """Note that the partner user looked at their dashboard now; returns the previous visit (None on the first).
    Not audited: it records no access to content, only what to highlight as new."""
    at = at or timezone.now()
    with transaction.atomic():
        visit = PortalVisit.objects.select_for_update().filter(user=user).first()
        if visit is None:
            PortalVisit.objects.create(user=user, seen_at=at)
            return None
        previous = visit.seen_at
        visit.seen_at = at
        visit.save(update_fields=["seen_at"])
        return previous


def open_artifact_for_staff(*, actor, artifact: Artifact):
    """A program manager who may read the advisory (need-to-know) downloads one of its files as stored, without
    personalisation: the file stays inside the program. Audited; refuses everyone else."""
    if not selectors.can_view_content(actor, artifact.advisory):
        raise PermissionDenied("Only the advisory's assigned managers open its files before release.")
    with transaction.atomic():
        record_audit_event(
            actor=actor,
            action="artifact.downloaded_by_staff",
            target=artifact,
            details={"advisory": artifact.advisory.identifier, "sha256": artifact.sha256},
        )
    return artifact.file.open("rb")
