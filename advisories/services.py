import hashlib
import secrets
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.mail import send_mass_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from guardian.utils import get_group_obj_perms_model

from advisories import selectors
from advisories.models import (
    Advisory,
    AdvisoryDocument,
    AdvisoryStatus,
    Artifact,
    Delivery,
    DownloadEvent,
    LeakIncident,
    LeakSample,
    ReleaseCohort,
    ReleaseWave,
    WaveStatus,
)
from compliance.entitlements import PartnerAccess, effective_levels, object_level, release_permission_codename
from compliance.models import Violation, ViolationKind, ViolationSeverity
from compliance.services import report_violation
from core.levels import AccessLevel
from core.roles import require_compliance_officer, require_program_manager
from core.services import record_audit_event
from partners.models import Partner, PartnerMembership, PartnerStatus

RELEASABLE_ADVISORY_STATES = (AdvisoryStatus.SCHEDULED, AdvisoryStatus.RELEASED)


# Authoring (the manager UI comes later; the Django admin calls these) ------------------------------------------


def next_advisory_identifier(year: int) -> str:
    prefix = f"FWN-{year}-"
    numbers = [
        int(i.removeprefix(prefix))
        for i in Advisory.objects.filter(identifier__startswith=prefix).values_list("identifier", flat=True)
    ]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


def create_advisory(*, actor, title: str, public_release_at: datetime, **fields) -> Advisory:
    """Create a draft advisory with the next free FWN-YYYY-NNNN identifier."""
    require_program_manager(actor)
    for attempt in range(5):
        try:
            with transaction.atomic():
                advisory = Advisory(title=title, public_release_at=public_release_at, **fields)
                advisory.identifier = next_advisory_identifier(timezone.now().year)
                advisory.full_clean(exclude=["status"])
                advisory.save()
                record_audit_event(actor=actor, action="advisory.created", target=advisory)
                return advisory
        except IntegrityError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def store_artifact(*, actor, artifact: Artifact, uploaded_file) -> Artifact:
    """Save an artifact file to private storage with its size and sha256. Refuses files over the size limit."""
    require_program_manager(actor)
    if uploaded_file.size > settings.ARTIFACT_MAX_BYTES:
        raise ValidationError({"file": f"Files may be at most {settings.ARTIFACT_MAX_BYTES // (1024 * 1024)} MiB."})
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    with transaction.atomic():
        artifact.sha256 = digest.hexdigest()
        artifact.size = uploaded_file.size
        artifact.content_type = getattr(uploaded_file, "content_type", None) or artifact.content_type
        artifact.file.save(uploaded_file.name, uploaded_file, save=False)
        artifact.save()
        record_audit_event(
            actor=actor,
            action="artifact.stored",
            target=artifact,
            details={"sha256": artifact.sha256, "size": artifact.size},
        )
    return artifact


def validate_release_plan(advisory: Advisory, waves: list[ReleaseWave]) -> None:
    """early <= standard <= public release, and the generic wave exactly at public release."""
    at = {wave.level: wave.scheduled_at for wave in waves if wave.status != WaveStatus.CANCELLED}
    if at.get(AccessLevel.GENERIC) != advisory.public_release_at:
        raise ValidationError("The generic wave must be scheduled at the public release time.")
    order = [at.get(AccessLevel.EARLY), at.get(AccessLevel.STANDARD), at[AccessLevel.GENERIC]]
    present = [moment for moment in order if moment is not None]
    if present != sorted(present):
        raise ValidationError("Waves must run in order: early, then standard, then public release.")


def schedule_advisory(*, actor, advisory: Advisory) -> Advisory:
    """Move a draft advisory with a valid release plan to scheduled, so that its waves release on time."""
    require_program_manager(actor)
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


def _grant_released_objects(*, advisory: Advisory, level: int, group_ids: list[int]) -> None:
    """Bulk-grant the receive permission on the advisory and on its documents and artifacts up to `level`."""
    released = [
        (Advisory, [advisory]),
        (AdvisoryDocument, list(advisory.documents.filter(level__lte=level))),
        (Artifact, list(advisory.artifacts.filter(level__lte=level))),
    ]
    for model, objects in released:
        if not objects:
            continue
        permission = Permission.objects.get(
            content_type=ContentType.objects.get_for_model(model), codename=release_permission_codename(model)
        )
        permission_model = get_group_obj_perms_model(model)
        permission_model.objects.bulk_create(
            [
                permission_model(group_id=group_id, permission=permission, content_object=obj)
                for group_id in group_ids
                for obj in objects
            ],
            ignore_conflicts=True,
            batch_size=5000,
        )


def deliver_wave(*, wave: ReleaseWave, partners, at: datetime, cohort: ReleaseCohort | None = None) -> list[int]:
    """Deliver a released (or releasing) wave to those of `partners` entitled to its level at `at` that hold no
    delivery of this advisory at this level or above yet. The same path serves a wave's release and a partner who
    becomes entitled later. Returns the new delivery ids. Runs in the caller's transaction."""
    levels = effective_levels(partners, at)
    entitled = {partner_id for partner_id, level in levels.items() if level >= wave.level}
    if not entitled:
        return []
    already = set(
        Delivery.objects.filter(advisory_id=wave.advisory_id, partner__in=partners, level__gte=wave.level).values_list(
            "partner_id", flat=True
        )
    )
    recipients = sorted(entitled - already)
    if not recipients:
        return []
    Delivery.objects.bulk_create(
        [
            Delivery(
                wave=wave,
                advisory_id=wave.advisory_id,
                partner_id=partner_id,
                level=wave.level,
                fingerprint_token=secrets.token_hex(32),
                cohort=cohort,
                delivered_at=at,
            )
            for partner_id in recipients
        ],
        batch_size=5000,
    )
    group_ids = list(partners.filter(pk__in=recipients).values_list("group_id", flat=True))
    _grant_released_objects(advisory=wave.advisory, level=wave.level, group_ids=group_ids)
    return list(Delivery.objects.filter(wave=wave, partner_id__in=recipients).values_list("id", flat=True))


def release_wave(*, wave: ReleaseWave, at: datetime) -> list[int]:
    """Release one locked, due wave: deliveries and grants for every entitled partner, the wave marked released,
    the advisory's status advanced, an audit event. Returns the new delivery ids."""
    advisory = wave.advisory
    # Partners of a cohort still to come receive the wave at their cohort's time (release_due_cohorts).
    later = ReleaseCohort.partners.through.objects.filter(
        releasecohort__wave=wave, releasecohort__released_at__isnull=True
    ).values("partner_id")
    partners = Partner.objects.filter(status=PartnerStatus.ACTIVE).exclude(pk__in=later)
    delivery_ids = deliver_wave(wave=wave, partners=partners, at=at)
    wave.mark_released()
    wave.released_at = at
    wave.save(update_fields=["status", "released_at"])
    if advisory.status == AdvisoryStatus.SCHEDULED:
        advisory.mark_released()
    if wave.level == AccessLevel.GENERIC and advisory.status == AdvisoryStatus.RELEASED:
        advisory.mark_public()
    advisory.save(update_fields=["status", "updated_at"])
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
        send_release_notices.delay(delivery_ids[start : start + batch_size])


def release_due_waves(*, now: datetime | None = None) -> list[int]:
    """Release every wave whose time has come, each in its own transaction, oldest first and the earliest level
    first. Waves locked by a concurrent run are skipped, so two runs never release one wave twice; a wave whose
    time has not come is never touched. Returns the ids of the waves released."""
    released = []
    while True:
        at = now or timezone.now()
        with transaction.atomic():
            wave = (
                ReleaseWave.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("advisory")
                .filter(
                    status=WaveStatus.SCHEDULED,
                    scheduled_at__lte=at,
                    advisory__status__in=RELEASABLE_ADVISORY_STATES,
                )
                .order_by("scheduled_at", "-level")
                .first()
            )
            if wave is None:
                break
            # The advisory row is locked too, so that concurrent waves of one advisory advance its status in turn.
            wave.advisory = Advisory.objects.select_for_update().get(pk=wave.advisory_id)
            delivery_ids = release_wave(wave=wave, at=at)
            transaction.on_commit(lambda ids=delivery_ids: _queue_release_notices(ids))
        released.append(wave.pk)
    release_due_cohorts(now=now)
    return released


def release_due_cohorts(*, now: datetime | None = None) -> list[int]:
    """Deliver every cohort whose time has come, of a wave already released, each in its own transaction (locked
    with skip_locked like waves, so concurrent runs never deliver a cohort twice). Returns the cohort ids."""
    released = []
    while True:
        at = now or timezone.now()
        with transaction.atomic():
            cohort = (
                ReleaseCohort.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("wave__advisory")
                .filter(released_at__isnull=True, scheduled_at__lte=at, wave__status=WaveStatus.RELEASED)
                .order_by("scheduled_at", "pk")
                .first()
            )
            if cohort is None:
                return released
            partners = Partner.objects.filter(status=PartnerStatus.ACTIVE, pk__in=cohort.partners.values("pk"))
            delivery_ids = deliver_wave(wave=cohort.wave, partners=partners, at=at, cohort=cohort)
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
            transaction.on_commit(lambda ids=delivery_ids: _queue_release_notices(ids))
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
    time. Refuses a released or cancelled wave, a time not after the wave or after the public release, and a partner
    already in another cohort of the wave."""
    require_program_manager(actor)
    with transaction.atomic():
        wave = ReleaseWave.objects.select_for_update().select_related("advisory").get(pk=wave.pk)
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
    """Email the active members of each organisation that received one of these deliveries, once per delivery.
    The email names the advisory and links to the portal; it carries none of the embargoed content."""
    with transaction.atomic():
        deliveries = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("advisory", "partner")
            .filter(pk__in=delivery_ids, notified_at__isnull=True)
        )
        if not deliveries:
            return 0
        emails_by_partner: dict[int, list[str]] = {}
        for partner_id, email in PartnerMembership.objects.filter(
            partner_id__in={d.partner_id for d in deliveries}, is_active=True, user__is_active=True
        ).values_list("partner_id", "user__email"):
            emails_by_partner.setdefault(partner_id, []).append(email)
        messages = []
        for delivery in deliveries:
            advisory = delivery.advisory
            recipients = emails_by_partner.get(delivery.partner_id, [])
            if not recipients:
                continue
            subject = f"[Forewarn] {advisory.identifier} released to {delivery.partner} ({advisory.get_tlp_display()})"
            body = (
                f"Advisory {advisory.identifier} is now available to {delivery.partner} at the "
                f"{delivery.get_level_display()} level.\n\n"
                f"Public release: {advisory.public_release_at:%Y-%m-%d %H:%M} UTC.\n"
                f"Read it in the portal: {settings.FOREWARN_PORTAL_URL}/portal/advisories/{advisory.identifier}/\n\n"
                f"Handle according to {advisory.get_tlp_display()} and your program agreement."
            )
            messages.append((subject, body, settings.DEFAULT_FROM_EMAIL, recipients))
        send_mass_mail(messages, fail_silently=False)
        Delivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(notified_at=timezone.now())
    return len(messages)


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
    """Record a partner user's view or download, tied to the delivery through which the organisation holds it."""
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
        ip_address=ip_address,
        user_agent=(user_agent or "")[:500],
    )


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
