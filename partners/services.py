import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import DomainNameValidator
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django_fsm import TransitionNotAllowed

from core.levels import AccessLevel
from core.models import AuditEvent
from core.outbox import outbox_handler, run_after_commit
from core.roles import (
    COMPLIANCE_OFFICERS,
    PROGRAM_MANAGERS,
    is_program_manager,
    require_program_manager,
    require_staff_role,
)
from core.services import record_audit_event
from partners import tokens
from partners.models import (
    DUE_DILIGENCE_CHECKLIST,
    OPEN_APPLICATION_STATES,
    ApiToken,
    ApiTokenScope,
    ApplicationNote,
    ApplicationStatus,
    Invitation,
    MemberRole,
    Partner,
    PartnerApplication,
    PartnerDomain,
    PartnerMembership,
    PartnerStatus,
)
from partners.selectors import admin_membership, api_token_digest
from partners.signals import entitlement_changed, standing_changed

# Partners ---------------------------------------------------------------------------------------------------------


def normalise_domains(domains) -> list[str]:
    """Lower-case, de-duplicated, validated email domains ("@Example.COM" -> "example.com")."""
    validator = DomainNameValidator(accept_idna=False)
    result = []
    for raw in domains:
        domain = raw.strip().lstrip("@").rstrip(".").lower()
        if not domain:
            continue
        try:
            validator(domain)
        except ValidationError as error:
            raise ValidationError({"email_domains": f"“{domain}” is not a valid domain name."}) from error
        if "." not in domain:
            raise ValidationError({"email_domains": f"“{domain}” is not a valid domain name."})
        if domain not in result:
            result.append(domain)
    return result


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower()


def lock_partner(partner_id: int) -> Partner:
    """Lock an organisation's row and return it fresh. Every service that changes the organisation or its rows
    (memberships, invitations, API tokens, agreements, enforcement) takes this lock first in its transaction and
    checks standing and rights after it (docs/architecture.md, "Locks")."""
    return Partner.objects.select_for_update().get(pk=partner_id)


def create_partner(
    *,
    actor,
    legal_name: str,
    country: str,
    assigned_level: int,
    trading_name: str = "",
    email_domains=(),
    seat_limit: int | None = None,
) -> Partner:
    """Create an active partner organisation with its own auth Group. Refuses non-managers and duplicates."""
    require_program_manager(actor)
    legal_name = legal_name.strip()
    if not legal_name:
        raise ValidationError({"legal_name": "A legal name is required."})
    if assigned_level not in AccessLevel.values:
        raise ValidationError({"assigned_level": "Unknown access level."})
    domains = normalise_domains(email_domains)
    duplicate = ValidationError({"legal_name": "An organisation with this legal name already exists."})
    with transaction.atomic():
        if Partner.objects.filter(legal_name__iexact=legal_name).exists():
            raise duplicate
        try:
            with transaction.atomic():  # the unique legal name and Group name decide between concurrent creations
                group = Group.objects.create(name=f"partner:{legal_name}"[:150])
                partner = Partner.objects.create(
                    legal_name=legal_name,
                    trading_name=trading_name.strip(),
                    country=country,
                    assigned_level=assigned_level,
                    group=group,
                    seat_limit=seat_limit or settings.PARTNER_DEFAULT_SEAT_LIMIT,
                )
        except IntegrityError:
            raise duplicate from None
        PartnerDomain.objects.bulk_create([PartnerDomain(partner=partner, domain=domain) for domain in domains])
        record_audit_event(
            actor=actor,
            action="partner.created",
            target=partner,
            details={"country": str(country), "assigned_level": AccessLevel(assigned_level).label, "domains": domains},
        )
    return partner


def add_member(*, actor, partner: Partner, email: str, role: str, password: str | None = None) -> PartnerMembership:
    """Create a partner user and their membership directly (program managers, e.g. in the admin). Refuses staff
    accounts and people already in an organisation. Partner admins use invitations instead."""
    require_program_manager(actor)
    if role not in MemberRole.values:
        raise ValidationError({"role": "Unknown role."})
    user_model = get_user_model()
    email = user_model.objects.normalize_email(email).lower()
    with transaction.atomic():
        partner = lock_partner(partner.pk)
        if partner.status == PartnerStatus.REMOVED:
            raise ValidationError("A removed organisation cannot gain members.")
        user = user_model.objects.filter(email__iexact=email).first()
        if user is not None and user.is_staff:
            raise ValidationError({"email": "Program staff cannot be members of a partner organisation."})
        if user is not None and PartnerMembership.objects.filter(user=user).exists():
            raise ValidationError({"email": "This person already belongs to an organisation."})
        try:
            with transaction.atomic():  # the unique email and one-membership rules decide between concurrent joins
                if user is None:
                    user = user_model.objects.create_user(email=email, password=password)
                membership = PartnerMembership.objects.create(user=user, partner=partner, role=role)
        except IntegrityError:
            raise ValidationError({"email": "This person already belongs to an organisation."}) from None
        record_audit_event(
            actor=actor, action="partner.member_added", target=partner, details={"email": email, "role": role}
        )
    return membership


def update_team_settings(*, partner: Partner, actor, seat_limit: int, email_domains) -> Partner:
    """Set how many seats an organisation has and which email domains its people may be invited on (program
    managers). Refuses a seat limit below the seats already taken and an empty domain list."""
    require_program_manager(actor)
    domains = normalise_domains(email_domains)
    if not domains:
        raise ValidationError({"email_domains": "Register at least one email domain."})
    with transaction.atomic():
        partner = lock_partner(partner.pk)
        taken = partner.memberships.filter(is_active=True).count() + partner.invitations.pending(timezone.now()).count()
        if seat_limit < max(taken, 1):
            raise ValidationError({"seat_limit": f"{taken} seats are taken; the limit cannot be lower."})
        before = {
            "seat_limit": partner.seat_limit,
            "email_domains": list(partner.domains.values_list("domain", flat=True)),
        }
        partner.seat_limit = seat_limit
        partner.save(update_fields=["seat_limit"])
        partner.domains.exclude(domain__in=domains).delete()
        PartnerDomain.objects.bulk_create(
            [PartnerDomain(partner=partner, domain=domain) for domain in domains], ignore_conflicts=True
        )
        record_audit_event(
            actor=actor,
            action="partner.team_settings_changed",
            target=partner,
            details={"before": before, "after": {"seat_limit": seat_limit, "email_domains": domains}},
        )
    return partner


# Standing: suspend, reinstate, remove -------------------------------------------------------------------------------

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
            transaction.on_commit(lambda: entitlement_changed.send(sender=Partner, partner_ids=[partner.pk]))
        _queue_partner_notice(event.pk, admin_ids)
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
        partner = Partner.objects.select_for_update().get(pk=partner.pk)
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
            transaction.on_commit(lambda: entitlement_changed.send(sender=Partner, partner_ids=[partner.pk]))
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


# Notices ------------------------------------------------------------------------------------------------------------


def _queue_partner_notice(event_id: int, user_ids: list[int]) -> None:
    if user_ids:
        run_after_commit("partners.partner_notice", event_id=event_id, user_ids=user_ids)


@outbox_handler("partners.partner_notice")
def send_partner_notice(*, event_id: int, user_ids: list[int]) -> int:
    """Email the named people about one audited change of their organisation (its standing, its team)."""
    event = AuditEvent.objects.get(pk=event_id)
    partner = Partner.objects.get(pk=event.target_id)
    recipients = list(get_user_model().objects.filter(pk__in=user_ids).values_list("email", flat=True))
    if not recipients:
        return 0
    details = event.details
    headline = {
        "partner.suspended": f"{partner} is suspended from the Forewarn partner program",
        "partner.reinstated": f"{partner} is reinstated in the Forewarn partner program",
        "partner.removed": f"{partner} is removed from the Forewarn partner program",
    }.get(event.action, f"Change to {partner} in the Forewarn partner program")
    lines = [f"{headline}.", ""]
    if details.get("reason"):
        lines.append(f"Reason: {details['reason']}")
    if details.get("until"):
        lines.append(f"Until: {details['until'].replace('T', ' ')[:16]} UTC")
    lines += ["", f"Time: {event.created_at:%Y-%m-%d %H:%M} UTC.", f"Portal: {settings.FOREWARN_PORTAL_URL}/portal/"]
    send_mail(f"[Forewarn] {headline}", "\n".join(lines), settings.DEFAULT_FROM_EMAIL, recipients)
    return len(recipients)


# Applications -------------------------------------------------------------------------------------------------------

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
        _queue_duplicate_notice(email=application.applicant_email, legal_name=application.legal_name, reason=duplicate)
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
        _queue_application_email(application.pk, "verification")
    return application


def _queue_duplicate_notice(*, email: str, legal_name: str, reason: str) -> None:
    run_after_commit("partners.duplicate_application_notice", email=email, legal_name=legal_name, reason=reason)


@outbox_handler("partners.duplicate_application_notice")
def send_duplicate_application_notice(*, email: str, legal_name: str, reason: str) -> None:
    """Tell an applicant why their application was not recorded (there is no row to name: nothing was saved)."""
    body = (
        f"We received an application to the Forewarn partner program for {legal_name} from this address, and did not "
        f"record it: {reason}\n\nIf you believe this is wrong, reply to this message. If you did not apply, ignore it."
    )
    send_mail("[Forewarn] Your partner application", body, settings.DEFAULT_FROM_EMAIL, [email])


def _queue_application_email(application_id: int, kind: str) -> None:
    run_after_commit("partners.application_email", application_id=application_id, kind=kind)


@outbox_handler("partners.application_email")
def send_application_email(*, application_id: int, kind: str) -> None:
    """Email the applicant: the verification link, or the decision (approved / rejected with the reason)."""
    application = PartnerApplication.objects.get(pk=application_id)
    portal = settings.FOREWARN_PORTAL_URL
    if kind == "verification":
        if application.status != ApplicationStatus.SUBMITTED:
            return
        link = portal + reverse("partners:verify_application", args=[tokens.application_token(application)])
        hours = settings.APPLICATION_VERIFICATION_MAX_AGE // 3600
        subject = "[Forewarn] Confirm your email address for your partner application"
        body = (
            f"We received an application to the Forewarn partner program for {application.legal_name}.\n\n"
            f"Confirm your email address within {hours} hours to send it to our reviewers:\n{link}\n\n"
            "If you did not apply, ignore this message."
        )
    elif kind == "approved":
        subject = f"[Forewarn] {application.legal_name} is approved as a partner"
        body = (
            f"Your application for {application.legal_name} is approved at the "
            f"{AccessLevel(application.assigned_level).label} level.\n\n"
            "A separate message carries your invitation link: use it to set your password and sign in."
        )
    elif kind == "rejected":
        subject = f"[Forewarn] Your partner application for {application.legal_name}"
        body = (
            f"We are sorry: your application for {application.legal_name} was not accepted.\n\n"
            f"Reason: {application.decision_reason}"
        )
    else:
        raise ValueError(kind)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [application.applicant_email])


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
        _queue_application_email(application.pk, "rejected")
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
        _queue_application_email(application.pk, "approved")
        invite_member(partner=partner, actor=actor, email=application.applicant_email, role=MemberRole.ADMIN)
    return partner


# Invitations and the team -------------------------------------------------------------------------------------------


def _require_team_manager(actor, partner: Partner) -> None:
    """Program managers, and the active admins of an active organisation, manage its team. The membership is read
    from the database, not from the actor object: services ask again after locking the organisation, so that an
    admin deactivated (or an organisation removed) in the meantime no longer acts."""
    if is_program_manager(actor):
        return
    is_admin = (
        actor is not None
        and actor.is_authenticated
        and PartnerMembership.objects.filter(
            user=actor, partner_id=partner.pk, role=MemberRole.ADMIN, is_active=True, user__is_active=True
        ).exists()
    )
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
        run_after_commit("partners.invitation", invitation_id=invitation.pk)
    return invitation


@outbox_handler("partners.invitation")
def send_invitation(*, invitation_id: int) -> bool:
    """Email a pending invitation's link to the invitee."""
    invitation = Invitation.objects.select_related("partner").get(pk=invitation_id)
    if invitation.state(timezone.now()) != "pending":
        return False
    link = settings.FOREWARN_PORTAL_URL + reverse(
        "partners:accept_invitation", args=[tokens.invitation_token(invitation)]
    )
    body = (
        f"You are invited to join {invitation.partner} in the Forewarn partner program as "
        f"{invitation.get_role_display().lower()}.\n\n"
        f"Set your password and sign in here (the link works once, until {invitation.expires_at:%Y-%m-%d %H:%M} UTC):"
        f"\n{link}\n\nIf you did not expect this, ignore this message."
    )
    send_mail(
        f"[Forewarn] Invitation to join {invitation.partner}", body, settings.DEFAULT_FROM_EMAIL, [invitation.email]
    )
    return True


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


# API tokens ------------------------------------------------------------------------------------------------------

API_TOKEN_MAX_LIFETIME = timedelta(days=366)
# last_used_at is written at most this often per token, so that a busy client costs no update per request.
API_TOKEN_LAST_USED_PRECISION = timedelta(minutes=1)


def _require_partner_admin(actor, partner: Partner | None = None) -> PartnerMembership:
    membership = admin_membership(actor)
    if membership is None or (partner is not None and membership.partner_id != partner.pk):
        raise PermissionDenied("Only the organisation's partner admins may manage its API tokens.")
    return membership


def create_api_token(
    *, actor, name: str, expires_at: datetime, scope: str = ApiTokenScope.READ
) -> tuple[ApiToken, str]:
    """Create an API token for the actor's organisation: read-only by default, or with the `report` scope, which
    also reports protection status and indicators (chosen deliberately at creation). Returns the token and its
    secret, which is not stored and cannot be shown again. Refuses anyone but an active partner admin of an active
    organisation, an unknown scope, and an expiry in the past or more than a year ahead."""
    membership = _require_partner_admin(actor)
    if scope not in ApiTokenScope.values:
        raise ValidationError({"scope": "Unknown token scope."})
    partner = membership.partner
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the token a name, e.g. the system that will use it."})
    now = timezone.now()
    if expires_at <= now:
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    if expires_at > now + API_TOKEN_MAX_LIFETIME:
        raise ValidationError({"expires_at": "A token may live for at most one year."})
    prefix = secrets.token_hex(4)
    secret = f"fwn_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        partner = lock_partner(partner.pk)
        _require_partner_admin(actor, partner)
        if partner.status != PartnerStatus.ACTIVE:
            raise ValidationError("A suspended or removed organisation cannot create API tokens.")
        token = ApiToken.objects.create(
            partner=partner,
            name=name[:100],
            prefix=prefix,
            secret_sha256=api_token_digest(secret),
            scope=scope,
            created_by=actor,
            expires_at=expires_at,
        )
        record_audit_event(
            actor=actor,
            action="api_token.created",
            target=token,
            details={"partner": partner.pk, "prefix": prefix, "expires_at": expires_at.isoformat(), "scope": scope},
        )
    return token, secret


def revoke_api_token(*, actor, token: ApiToken) -> ApiToken:
    """Revoke a token of the actor's organisation at once. Revoking a revoked token changes nothing."""
    _require_partner_admin(actor, token.partner)
    with transaction.atomic():
        lock_partner(token.partner_id)
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is not None:
            return token
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record_audit_event(actor=actor, action="api_token.revoked", target=token, details={"prefix": token.prefix})
    return token


def record_api_token_use(
    *, token: ApiToken, method: str, path: str, status_code: int, ip_address=None, refused: str = ""
) -> None:
    """One audit event per API request made with a token (refused ones included), and the token's last-used
    time, written at most once a minute."""
    now = timezone.now()
    with transaction.atomic():
        if token.last_used_at is None or now - token.last_used_at >= API_TOKEN_LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        details = {"prefix": token.prefix, "method": method, "path": path[:300], "status": status_code}
        if refused:
            details["refused"] = refused
        record_audit_event(
            actor=token.created_by,
            action="api_token.refused" if refused else "api_token.used",
            target=token,
            details=details,
            ip_address=ip_address,
        )
