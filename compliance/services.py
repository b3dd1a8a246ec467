from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from compliance.models import (
    Agreement,
    AgreementReminder,
    ContractVersion,
    JurisdictionPolicy,
    ReminderKind,
    text_sha256,
)
from core.levels import AccessLevel
from core.roles import require_program_manager
from core.services import record_audit_event
from partners.models import MemberRole, PartnerMembership, PartnerStatus


def publish_contract_version(
    *,
    actor,
    contract_key: str,
    title: str,
    version: int,
    text: str,
    effective_at: datetime,
    required_from_level: int,
    validity_days: int = 365,
    previous_versions_valid_until: datetime | None = None,
) -> ContractVersion:
    """Publish a new, immutable contract version (a change is a new version). Agreements to earlier versions keep
    counting until `previous_versions_valid_until` (the re-sign deadline), or stop when this one takes effect.
    Refuses non-managers, a version number that is not above the latest, an empty text, a deadline before the
    effective time."""
    require_program_manager(actor)
    if not text.strip() or not title.strip():
        raise ValidationError("A contract version needs a title and a text.")
    if validity_days < 1:
        raise ValidationError({"validity_days": "A signature must stay valid for at least one day."})
    if previous_versions_valid_until is not None and previous_versions_valid_until < effective_at:
        raise ValidationError(
            {"previous_versions_valid_until": "The re-sign deadline cannot come before the version takes effect."}
        )
    with transaction.atomic():
        latest = ContractVersion.objects.filter(contract_key=contract_key).order_by("-version").first()
        if latest is not None and version <= latest.version:
            raise ValidationError({"version": f"Version must be above {latest.version}."})
        contract_version = ContractVersion(
            contract_key=contract_key,
            title=title,
            version=version,
            text=text,
            effective_at=effective_at,
            required_from_level=required_from_level,
            validity_days=validity_days,
            previous_versions_valid_until=previous_versions_valid_until,
        )
        contract_version.full_clean(exclude=["text_sha256"])
        contract_version.save()
        record_audit_event(
            actor=actor,
            action="contract.published",
            target=contract_version,
            details={
                "sha256": contract_version.text_sha256,
                "required_from": AccessLevel(required_from_level).label,
                "effective_at": effective_at,
                "previous_versions_valid_until": previous_versions_valid_until,
            },
        )
    return contract_version


def _require_may_sign(*, actor, partner, signed_by) -> None:
    """A program manager may record a signature given on paper; otherwise the signer must be the actor and an
    active admin of the partner organisation (analysts see agreements but cannot sign)."""
    if signed_by is None:
        require_program_manager(actor)
        return
    is_partner_admin = (
        signed_by == actor
        and actor.is_active
        and PartnerMembership.objects.filter(
            user=actor, partner=partner, role=MemberRole.ADMIN, is_active=True
        ).exists()
    )
    if not is_partner_admin:
        raise PermissionDenied("Only your organisation's partner admins can sign agreements.")


def record_agreement(
    *, actor, partner, contract_version: ContractVersion, signer_name: str, signer_title: str, signed_at: datetime,
    signed_by=None, ip_address=None, user_agent: str = "",
) -> Agreement:  # fmt: skip
    """Record a partner's signature of a contract version with its evidence; valid for the version's validity
    days. Refuses anyone but a program manager (a signature given on paper) or the signing partner admin, a
    superseded version, a removed organisation and a missing name or title."""
    _require_may_sign(actor=actor, partner=partner, signed_by=signed_by)
    if not signer_name.strip() or not signer_title.strip():
        raise ValidationError("The signer's full name and job title are required.")
    if partner.status == PartnerStatus.REMOVED:
        raise ValidationError("A removed organisation cannot sign agreements.")
    newer = ContractVersion.objects.filter(
        contract_key=contract_version.contract_key, version__gt=contract_version.version, effective_at__lte=signed_at
    )
    if newer.exists():
        raise ValidationError("This contract version has been superseded; sign the current one.")
    with transaction.atomic():
        agreement = Agreement(
            partner=partner,
            contract_version=contract_version,
            signed_by=signed_by,
            signer_name=signer_name.strip(),
            signer_title=signer_title.strip(),
            signed_at=signed_at,
            valid_until=signed_at + timedelta(days=contract_version.validity_days),
            ip_address=ip_address,
            user_agent=(user_agent or "")[:500],
            signed_text_sha256=contract_version.text_sha256,
        )
        agreement.full_clean(exclude=["signed_by"])  # empty when the program records a paper signature
        agreement.save()
        record_audit_event(
            actor=actor,
            action="agreement.recorded" if signed_by is None else "agreement.signed",
            target=agreement,
            details={
                "partner": partner.pk,
                "contract": str(contract_version),
                "sha256": agreement.signed_text_sha256,
                "signer": f"{agreement.signer_name}, {agreement.signer_title}",
                "valid_until": agreement.valid_until,
            },
            ip_address=ip_address,
        )
    return agreement


def sign_agreement(
    *,
    user,
    contract_version: ContractVersion,
    signer_name: str,
    signer_title: str,
    consent: bool,
    shown_text_sha256: str,
    ip_address=None,
    user_agent: str = "",
) -> Agreement:
    """Click-through signing by a partner admin for their own organisation, now. Refuses analysts and everyone
    else, missing consent, and a signature whose shown text (by its SHA-256) is not exactly the version's text;
    a version not yet in effect, plus everything `record_agreement` refuses (superseded, missing name or title)."""
    membership = PartnerMembership.objects.select_related("partner").filter(user=user, is_active=True).first()
    if membership is None:
        raise PermissionDenied("Only your organisation's partner admins can sign agreements.")
    if not consent:
        raise ValidationError({"consent": "Confirm that you agree to the text, on behalf of your organisation."})
    # The stored hash is checked against the text itself as well, so a tampered row cannot be signed.
    if not (shown_text_sha256 == contract_version.text_sha256 == text_sha256(contract_version.text)):
        raise ValidationError(
            "The text you were shown is not the current text of this version. Reload the page and read it again."
        )
    now = timezone.now()
    if contract_version.effective_at > now:
        raise ValidationError("This contract version is not in effect yet.")
    return record_agreement(
        actor=user,
        partner=membership.partner,
        contract_version=contract_version,
        signer_name=signer_name,
        signer_title=signer_title,
        signed_at=now,
        signed_by=user,
        ip_address=ip_address,
        user_agent=user_agent,
    )


# Expiry reminders ------------------------------------------------------------------------------------------------

# An expiry notice is still sent this long after the expiry (beat was down), never for older expiries.
EXPIRY_NOTICE_WINDOW = timedelta(days=7)
LONGEST_REMINDER_LEAD = timedelta(days=max(ReminderKind.values))


def due_reminder_kind(*, valid_until: datetime, at: datetime) -> ReminderKind | None:
    """The most urgent reminder whose time has come at `at` for an agreement valid until `valid_until`."""
    due = [kind for kind in ReminderKind if valid_until - timedelta(days=kind.value) <= at]
    return min(due) if due else None


def _reminder_candidates(at: datetime) -> list[int]:
    renewed = Agreement.objects.filter(
        partner=OuterRef("partner"),
        contract_version__contract_key=OuterRef("contract_version__contract_key"),
        valid_until__gt=OuterRef("valid_until"),
    )
    return list(
        Agreement.objects.filter(
            valid_until__lte=at + LONGEST_REMINDER_LEAD,
            valid_until__gt=at - EXPIRY_NOTICE_WINDOW,
            partner__status__in=[PartnerStatus.ACTIVE, PartnerStatus.SUSPENDED],
        )
        .exclude(Exists(renewed))
        .order_by("valid_until")
        .values_list("pk", flat=True)
    )


def _reminder_email(agreement: Agreement, kind: ReminderKind) -> tuple[str, str]:
    version = agreement.contract_version
    until = f"{agreement.valid_until:%Y-%m-%d %H:%M} UTC"
    url = f"{settings.FOREWARN_PORTAL_URL}/portal/agreements/"
    if kind == ReminderKind.EXPIRED:
        subject = f"[Forewarn] {agreement.partner}: your {version.title} expired on {until}"
        lead = (
            f"The {version} agreement of {agreement.partner} expired on {until}. Access to advisories that need "
            "it stopped at that moment and resumes as soon as a partner admin signs the current version."
        )
    else:
        subject = f"[Forewarn] {agreement.partner}: your {version.title} expires on {until}"
        lead = (
            f"The {version} agreement of {agreement.partner} expires on {until}. Access to advisories that need it "
            "stops at that moment unless a partner admin signs the current version before then."
        )
    return subject, f"{lead}\n\nReview and sign: {url}\n"


def send_due_agreement_reminders(*, now: datetime | None = None) -> int:
    """Email each organisation's partner admins about agreements expiring in 30, 7 and 1 days and at expiry, each
    reminder at most once per agreement (a row per reminder, unique per agreement and kind). Only the most urgent
    due reminder goes out (a late run does not send a stale 30-day one after the 7-day one). Agreements already
    renewed, and organisations removed, get none. Returns the number of reminders sent."""
    at = now or timezone.now()
    sent = 0
    for agreement_id in _reminder_candidates(at):
        with transaction.atomic():
            agreement = (
                Agreement.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("partner", "contract_version")
                .filter(pk=agreement_id)
                .first()
            )
            if agreement is None:  # a concurrent run is handling it
                continue
            kind = due_reminder_kind(valid_until=agreement.valid_until, at=at)
            if kind is None or agreement.reminders.filter(kind__lte=kind).exists():
                continue
            recipients = list(
                PartnerMembership.objects.filter(
                    partner=agreement.partner, role=MemberRole.ADMIN, is_active=True, user__is_active=True
                )
                .order_by("user__email")
                .values_list("user__email", flat=True)
            )
            try:
                with transaction.atomic():
                    reminder = AgreementReminder.objects.create(
                        agreement=agreement, kind=kind, sent_at=at, recipients=recipients
                    )
            except IntegrityError:  # sent by a concurrent run in the meantime
                continue
            record_audit_event(
                actor=None,
                action="agreement.reminder_sent",
                target=agreement,
                details={"kind": reminder.get_kind_display(), "recipients": recipients},
            )
            if recipients:
                subject, body = _reminder_email(agreement, kind)
                # Sent inside the transaction: if sending fails, the row rolls back and the next run retries.
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=False)
            sent += 1
    return sent


def set_jurisdiction_policy(
    *, actor, country: str, cap_level: int, effective_at: datetime, reason: str
) -> JurisdictionPolicy:
    """Add a versioned country cap, in force from `effective_at`. A written reason is required."""
    require_program_manager(actor)
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
