"""Applications to join the program: the public form, the applicant's email check, review with its due-diligence
checklist and notes, and the decision (approval creates the organisation and invites the applicant)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django_fsm import TransitionNotAllowed

from core.levels import AccessLevel
from core.roles import require_program_manager
from core.services import record_audit_event
from partners import notifications, tokens
from partners.models import (
    DUE_DILIGENCE_CHECKLIST,
    OPEN_APPLICATION_STATES,
    ApplicationNote,
    ApplicationStatus,
    MemberRole,
    Partner,
    PartnerApplication,
    PartnerStatus,
)
from partners.services.organisations import create_partner, email_domain, normalise_domains
from partners.services.team import invite_member

APPLICATION_FIELDS = (
    "legal_name", "trading_name", "country", "website", "products", "customer_base", "ownership", "parent_company",
    "government_affiliations", "reporting_duty", "reporting_duty_details", "security_contact_name",
    "security_contact_email", "applicant_name", "applicant_email",
)  # fmt: skip


def _open_applications(at: datetime):
    """Applications still in progress; one never verified counts only while its verification link is valid."""
    stale_before = at - timedelta(seconds=settings.APPLICATION_VERIFICATION_MAX_AGE)
    return PartnerApplication.objects.filter(status__in=OPEN_APPLICATION_STATES).exclude(
        status=ApplicationStatus.SUBMITTED, submitted_at__lt=stale_before
    )


def find_duplicate(*, legal_name: str, domains: list[str], applicant_email: str, at: datetime) -> str | None:
    """Why a new application would duplicate an open application or an existing partner; None if it would not."""
    open_applications = _open_applications(at)
    if open_applications.filter(Q(legal_name__iexact=legal_name) | Q(applicant_email__iexact=applicant_email)).exists():
        return "An application for this organisation is already being processed."
    for other_domains in open_applications.values_list("email_domains", flat=True):
        if set(other_domains) & set(domains):
            return "An application for one of these email domains is already being processed."
    existing = Partner.objects.exclude(status=PartnerStatus.REMOVED)
    if existing.filter(Q(legal_name__iexact=legal_name) | Q(domains__domain__in=domains)).exists():
        return "This organisation, or one of these email domains, is already in the partner program."
    return None


class DuplicateApplication(ValidationError):
    """The application duplicates an open application or an existing partner. The applicant is told by email, not
    on screen, so that the public form does not reveal who applied or who is a partner."""


def submit_application(*, data: dict, email_domains, ip_address=None) -> PartnerApplication:
    """Record a public application and email its verification link to the applicant. Refuses invalid input and an
    applicant address outside the declared domains (ValidationError), and duplicates (DuplicateApplication, after
    queuing an email that tells the applicant why); saves nothing then."""
    now = timezone.now()
    domains = normalise_domains(email_domains)
    if not domains:
        raise ValidationError({"email_domains": "Name at least one email domain of the organisation."})
    application = PartnerApplication(
        **{name: data[name] for name in APPLICATION_FIELDS if name in data},
        email_domains=domains,
        submitted_at=now,
        submitted_ip=ip_address,
    )
    application.legal_name = application.legal_name.strip()
    application.applicant_email = application.applicant_email.strip().lower()
    application.security_contact_email = application.security_contact_email.strip().lower()
    application.full_clean(exclude=["status"])
    if email_domain(application.applicant_email) not in domains:
        raise ValidationError({"applicant_email": "Use an address on one of the organisation's email domains."})
    if application.reporting_duty and not application.reporting_duty_details.strip():
        raise ValidationError({"reporting_duty_details": "Describe the reporting duty."})
    duplicate = find_duplicate(
        legal_name=application.legal_name, domains=domains, applicant_email=application.applicant_email, at=now
    )
    if duplicate:
        notifications.queue_duplicate_application_notice(
            email=application.applicant_email, legal_name=application.legal_name, reason=duplicate
        )
        raise DuplicateApplication(duplicate)
    with transaction.atomic():
        application.save()
        record_audit_event(
            actor=None,
            action="application.submitted",
            target=application,
            details={"country": str(application.country), "domains": domains},
            ip_address=ip_address,
        )
        notifications.queue_application_email(application_id=application.pk, kind="verification")
    return application


def verify_application_email(*, token: str) -> PartnerApplication:
    """Confirm the applicant's address from the emailed link, sending the application to the vetting queue.
    Refuses forged, damaged or expired links and an application already verified."""
    content = tokens.read_application_token(token)
    if content is None:
        raise ValidationError("This confirmation link is invalid or has expired. Please apply again.")
    with transaction.atomic():
        application = PartnerApplication.objects.select_for_update().filter(pk=content.get("a")).first()
        if application is None or not constant_time_compare(application.applicant_email, content.get("e", "")):
            raise ValidationError("This confirmation link is invalid or has expired. Please apply again.")
        try:
            application.verify_email()
        except TransitionNotAllowed as error:
            raise ValidationError("This email address is already confirmed.") from error
        application.email_verified_at = timezone.now()
        application.save()
        record_audit_event(actor=None, action="application.email_verified", target=application)
    return application


def _transition_application(application, name: str, *, refused: str) -> None:
    try:
        getattr(application, name)()
    except TransitionNotAllowed as error:
        raise ValidationError(f"{refused} This application is {application.get_status_display().lower()}.") from error


def start_review(*, application: PartnerApplication, actor) -> PartnerApplication:
    """Take a verified application into review, with the actor as its reviewer. Refuses any other state."""
    require_program_manager(actor)
    with transaction.atomic():
        application = PartnerApplication.objects.select_for_update().get(pk=application.pk)
        _transition_application(application, "start_review", refused="Only a verified application can be reviewed.")
        application.reviewer = actor
        application.review_started_at = timezone.now()
        application.save()
        record_audit_event(actor=actor, action="application.review_started", target=application)
    return application


def update_checklist(*, application: PartnerApplication, actor, done: dict[str, bool]) -> PartnerApplication:
    """Tick or untick due-diligence items of an application under review; each tick records who and when."""
    require_program_manager(actor)
    unknown = set(done) - set(DUE_DILIGENCE_CHECKLIST)
    if unknown:
        raise ValidationError(f"Unknown checklist items: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        application = PartnerApplication.objects.select_for_update().get(pk=application.pk)
        if application.status != ApplicationStatus.UNDER_REVIEW:
            raise ValidationError("The checklist can only change while the application is under review.")
        checklist = dict(application.checklist)
        changed = {}
        for key, ticked in done.items():
            if ticked and not checklist.get(key):
                checklist[key] = {"by": actor.email, "at": timezone.now().isoformat()}
                changed[key] = True
            elif not ticked and checklist.get(key):
                checklist.pop(key)
                changed[key] = False
        if changed:
            application.checklist = checklist
            application.save(update_fields=["checklist"])
            record_audit_event(actor=actor, action="application.checklist_updated", target=application, details=changed)
    return application


def add_application_note(*, application: PartnerApplication, actor, body: str) -> ApplicationNote:
    """Add a reviewer's note to an application."""
    require_program_manager(actor)
    if not body.strip():
        raise ValidationError({"body": "A note needs some text."})
    with transaction.atomic():
        note = ApplicationNote.objects.create(
            application=application, author=actor, body=body.strip(), created_at=timezone.now()
        )
        record_audit_event(actor=actor, action="application.note_added", target=application)
    return note


def reject_application(*, application: PartnerApplication, actor, reason: str) -> PartnerApplication:
    """Reject an application under review with a written reason, told to the applicant."""
    require_program_manager(actor)
    if not reason or not reason.strip():
        raise ValidationError({"reason": "A written reason is required."})
    with transaction.atomic():
        application = PartnerApplication.objects.select_for_update().get(pk=application.pk)
        _transition_application(application, "reject", refused="Only an application under review can be rejected.")
        application.decided_by = actor
        application.decided_at = timezone.now()
        application.decision_reason = reason.strip()
        application.save()
        record_audit_event(
            actor=actor, action="application.rejected", target=application, details={"reason": reason.strip()}
        )
        notifications.queue_application_email(application_id=application.pk, kind="rejected")
    return application


def approve_application(*, application: PartnerApplication, actor, assigned_level: int, max_level: int) -> Partner:
    """Approve an application under review whose checklist is complete: create the partner (active, its Group,
    `assigned_level`), register its domains, and invite the applicant as its first partner admin. Refuses a level
    above `max_level` (the cap the entitlement rule puts on the country, given by `compliance.onboarding`, which is
    the one caller), an incomplete checklist and any other state."""
    require_program_manager(actor)
    if assigned_level not in (AccessLevel.GENERIC, AccessLevel.STANDARD, AccessLevel.EARLY):
        raise ValidationError({"assigned_level": "Choose generic, standard or early."})
    if assigned_level > max_level:
        raise ValidationError(
            {"assigned_level": f"The level cannot exceed {AccessLevel(max_level).label} for this country."}
        )
    with transaction.atomic():
        application = PartnerApplication.objects.select_for_update().get(pk=application.pk)
        _transition_application(application, "approve", refused="Only an application under review can be approved.")
        if not application.checklist_complete:
            raise ValidationError("Complete the due-diligence checklist before approving.")
        partner = create_partner(
            actor=actor,
            legal_name=application.legal_name,
            trading_name=application.trading_name,
            country=application.country,
            assigned_level=assigned_level,
            email_domains=application.email_domains,
        )
        application.partner = partner
        application.assigned_level = assigned_level
        application.decided_by = actor
        application.decided_at = timezone.now()
        application.save()
        record_audit_event(
            actor=actor,
            action="application.approved",
            target=application,
            details={"partner": partner.pk, "assigned_level": AccessLevel(assigned_level).label},
        )
        notifications.queue_application_email(application_id=application.pk, kind="approved")
        invite_member(partner=partner, actor=actor, email=application.applicant_email, role=MemberRole.ADMIN)
    return partner
