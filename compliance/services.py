from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from compliance.entitlements import SignedAgreement, counts_until
from compliance.models import (
    Agreement,
    AgreementReminder,
    ContractVersion,
    JurisdictionPolicy,
    ReminderKind,
    Violation,
    text_sha256,
)
from core.levels import AccessLevel
from core.roles import require_compliance_officer, require_program_manager
from core.services import record_audit_event
from partners.models import MemberRole, Partner, PartnerMembership, PartnerStatus
from partners.signals import standing_changed


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
        # The organisation may be entitled to more from now on (e.g. re-signed after expiry): higher layers catch
        # up what it missed through the one documented signal. Access itself never waits for this.
        partner_id, status = partner.pk, partner.status
        transaction.on_commit(lambda: standing_changed.send(sender=Partner, partner_id=partner_id, new_status=status))
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

# A notice is still sent this long after an agreement stopped counting (beat was down), never for older ones.
EXPIRY_NOTICE_WINDOW = timedelta(days=7)
LONGEST_REMINDER_LEAD = timedelta(days=max(ReminderKind.values))


def due_reminder_kind(*, ends_at: datetime, at: datetime) -> ReminderKind | None:
    """The most urgent reminder whose time has come at `at` for an agreement that stops counting at `ends_at`."""
    due = [kind for kind in ReminderKind if ends_at - timedelta(days=kind.value) <= at]
    return min(due) if due else None


def _agreements_ending_soon(at: datetime) -> list[tuple[int, datetime]]:
    """(agreement id, when it stops counting) for the agreements of organisations not removed that stop counting
    within the longest reminder lead, or stopped recently, and were not renewed; soonest first. An agreement stops
    counting when it expires or, once a newer version of its contract is published, at the re-sign deadline."""
    newest: dict[str, ContractVersion] = {}
    for version in ContractVersion.objects.all():
        if version.contract_key not in newest or version.version > newest[version.contract_key].version:
            newest[version.contract_key] = version
    renewed = Agreement.objects.filter(
        partner=OuterRef("partner"),
        contract_version__contract_key=OuterRef("contract_version__contract_key"),
        valid_until__gt=OuterRef("valid_until"),
    )
    ending = []
    for row in (
        Agreement.objects.filter(
            valid_until__gt=at - EXPIRY_NOTICE_WINDOW,
            partner__status__in=[PartnerStatus.ACTIVE, PartnerStatus.SUSPENDED],
        )
        .exclude(Exists(renewed))
        .values("pk", "contract_version__contract_key", "contract_version__version", "signed_at", "valid_until")
    ):
        signed = SignedAgreement(
            contract_key=row["contract_version__contract_key"],
            version=row["contract_version__version"],
            signed_at=row["signed_at"],
            valid_until=row["valid_until"],
            agreement_id=row["pk"],
        )
        ends_at = counts_until(agreement=signed, newest=newest[signed.contract_key])
        if at - EXPIRY_NOTICE_WINDOW < ends_at <= at + LONGEST_REMINDER_LEAD:
            ending.append((row["pk"], ends_at))
    return sorted(ending, key=lambda item: item[1])


def _reminder_email(agreement: Agreement, kind: ReminderKind, ends_at: datetime) -> tuple[str, str]:
    version = agreement.contract_version
    when = f"{ends_at:%Y-%m-%d %H:%M} UTC"
    url = f"{settings.FOREWARN_PORTAL_URL}/portal/agreements/"
    if ends_at >= agreement.valid_until:
        will_end, ended = f"expires on {when}", f"expired on {when}"
    else:
        will_end = f"must be re-signed by {when}: a new version replaces it"
        ended = f"stopped counting on {when}: a new version replaced it"
    if kind == ReminderKind.EXPIRED:
        subject = f"[Forewarn] {agreement.partner}: your {version.title} {ended.split(':')[0]}"
        lead = (
            f"The {version} agreement of {agreement.partner} {ended}. Access to advisories that need it stopped at "
            "that moment and resumes as soon as a partner admin signs the current version."
        )
    else:
        subject = f"[Forewarn] {agreement.partner}: your {version.title} {will_end.split(':')[0]}"
        lead = (
            f"The {version} agreement of {agreement.partner} {will_end}. Access to advisories that need it stops at "
            "that moment unless a partner admin signs the current version before then."
        )
    return subject, f"{lead}\n\nReview and sign: {url}\n"


def send_due_agreement_reminders(*, now: datetime | None = None) -> int:
    """Email each organisation's partner admins 30, 7 and 1 days before one of its agreements stops counting
    (expiry, or the re-sign deadline of a newer version) and when it has stopped, each reminder at most once per
    agreement (a row per reminder, unique per agreement and kind). Only the most urgent due reminder goes out (a
    late run does not send a stale 30-day one after the 7-day one). Agreements already renewed, and organisations
    removed, get none. Returns the number of reminders sent."""
    at = now or timezone.now()
    sent = 0
    for agreement_id, ends_at in _agreements_ending_soon(at):
        kind = due_reminder_kind(ends_at=ends_at, at=at)
        if kind is None:
            continue
        with transaction.atomic():
            agreement = (
                Agreement.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("partner", "contract_version")
                .filter(pk=agreement_id)
                .first()
            )
            if agreement is None or agreement.reminders.filter(kind__lte=kind).exists():
                continue  # a concurrent run holds it, or this reminder (or a more urgent one) went out already
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
                details={"kind": reminder.get_kind_display(), "ends_at": ends_at, "recipients": recipients},
            )
            if recipients:
                subject, body = _reminder_email(agreement, kind, ends_at)
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


def report_violation(
    *, actor, partner, kind: str, severity: str, summary: str, evidence: dict | None = None,
    related_advisories: list[str] | None = None,
) -> Violation:  # fmt: skip
    """Record a suspected violation by a partner (status `reported`) with its evidence. Compliance officers only."""
    require_compliance_officer(actor)
    with transaction.atomic():
        violation = Violation(
            partner=partner,
            kind=kind,
            severity=severity,
            summary=summary,
            evidence=evidence or {},
            related_advisories=related_advisories or [],
            reported_by=actor,
        )
        violation.full_clean(exclude=["status"])
        violation.save()
        record_audit_event(
            actor=actor,
            action="violation.reported",
            target=violation,
            details={
                "partner": partner.pk,
                "kind": kind,
                "severity": severity,
                "advisories": violation.related_advisories,
            },
        )
    return violation
