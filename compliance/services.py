import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from compliance.entitlements import SignedAgreement, counts_until, effective_levels, effective_levels_with_policy
from compliance.models import (
    Agreement,
    AgreementReminder,
    Appeal,
    AppealStatus,
    ComplianceReview,
    ContractVersion,
    EnforcementAction,
    EnforcementKind,
    EvidenceFile,
    JurisdictionPolicy,
    PolicyLevelChange,
    ReminderKind,
    ReviewOutcome,
    ReviewStatus,
    Violation,
    ViolationNote,
    ViolationStatus,
    text_sha256,
)
from core.levels import AccessLevel
from core.outbox import outbox_handler, run_after_commit
from core.roles import (
    COMPLIANCE_OFFICERS,
    PROGRAM_MANAGERS,
    require_compliance_officer,
    require_program_manager,
    require_staff_role,
)
from core.services import record_audit_event
from partners import services as partner_services
from partners.models import MemberRole, Partner, PartnerMembership, PartnerStatus
from partners.signals import entitlement_changed


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
        lock_contract(contract_key)
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
        try:
            with transaction.atomic():  # the first version of a new contract has no row to lock: the constraint
                contract_version.save()
        except IntegrityError:
            raise ValidationError({"version": f"Version {version} of this contract was just published."}) from None
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


def lock_contract(contract_key: str) -> None:
    """Lock every published version of one contract, oldest first. Publishing a version and signing one take this
    lock, so that a signature is checked against the versions as they are when it is recorded (a version published
    in the meantime is seen, and supersedes). Read the versions after it in a new statement: rows inserted by the
    transaction waited for are not in the locking statement's result."""
    list(ContractVersion.objects.select_for_update().filter(contract_key=contract_key).order_by("version").values("pk"))


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
    with transaction.atomic():
        # Every check again under the locks, in the documented order: the organisation, then the contract.
        partner = partner_services.lock_partner(partner.pk)
        _require_may_sign(actor=actor, partner=partner, signed_by=signed_by)
        if partner.status == PartnerStatus.REMOVED:
            raise ValidationError("A removed organisation cannot sign agreements.")
        lock_contract(contract_version.contract_key)
        # Read after the lock, in a statement of its own, so that a version published meanwhile is seen.
        newer = ContractVersion.objects.filter(
            contract_key=contract_version.contract_key,
            version__gt=contract_version.version,
            effective_at__lte=signed_at,
        )
        if newer.exists():
            raise ValidationError("This contract version has been superseded; sign the current one.")
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
        # The organisation may be entitled to more from now on (first signature, renewal after expiry): higher
        # layers deliver what became due through the one documented signal. Access itself never waits for this.
        _announce_entitlement_change([partner.pk])
    return agreement


def _announce_entitlement_change(partner_ids: list[int]) -> None:
    """After commit, tell higher layers that these organisations may be entitled to more than before."""
    if partner_ids:
        transaction.on_commit(lambda: entitlement_changed.send(sender=Partner, partner_ids=list(partner_ids)))


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


def report_violation(
    *, actor, partner, kind: str, severity: str, summary: str, evidence: dict | None = None,
    related_advisories: list[str] | None = None, description: str = "",
) -> Violation:  # fmt: skip
    """Record a suspected violation by a partner (status `reported`) with its evidence. Compliance officers and
    program managers only."""
    require_staff_role(actor, COMPLIANCE_OFFICERS, PROGRAM_MANAGERS)
    with transaction.atomic():
        violation = Violation(
            partner=partner,
            kind=kind,
            severity=severity,
            summary=summary,
            description=description.strip(),
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


# Violations ------------------------------------------------------------------------------------------------------

EVIDENCE_SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"PK\x03\x04": "application/zip",
}
EVIDENCE_SNIFF_BYTES = 2048


def evidence_content_type(head: bytes) -> str:
    """The type of an evidence file from its first bytes: PDF, PNG, JPEG, ZIP or UTF-8 text (logs, emails, forum
    posts). Anything else is refused, and so is HTML (a browser would render it)."""
    for signature, content_type in EVIDENCE_SIGNATURES.items():
        if head.startswith(signature):
            return content_type
    if not head:
        raise ValidationError("The file is empty.")
    text = head.removeprefix(b"\xef\xbb\xbf")
    try:
        text.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sniffed prefix is still text.
        if error.start < len(text) - 3 or b"\x00" in text:
            raise ValidationError("Evidence may be text (UTF-8), PDF, PNG, JPEG or ZIP; not this format.") from None
    if b"\x00" in text:
        raise ValidationError("Evidence may be text (UTF-8), PDF, PNG, JPEG or ZIP; not this format.")
    if text.lstrip().lower().startswith((b"<!doctype html", b"<html", b"<svg", b"<?xml", b"<script")):
        raise ValidationError("HTML, SVG and XML evidence must be wrapped in a ZIP.")
    return "text/plain"


def _locked_violation(violation: Violation) -> Violation:
    return Violation.objects.select_for_update(of=("self",)).select_related("partner").get(pk=violation.pk)


def _run_violation_transition(*, violation: Violation, actor, transition_name: str, note: str) -> Violation:
    require_compliance_officer(actor)
    if not note or not note.strip():
        raise ValidationError({"note": "Explain the step in a note."})
    with transaction.atomic():
        violation = _locked_violation(violation)
        previous = violation.status
        try:
            getattr(violation, transition_name)()
        except TransitionNotAllowed:
            raise ValidationError(
                f"A {violation.get_status_display().lower()} violation cannot be {TRANSITION_VERBS[transition_name]}."
            ) from None
        violation.save()
        ViolationNote.objects.create(violation=violation, author=actor, text=note.strip())
        record_audit_event(
            actor=actor,
            action=f"violation.{violation.status}",
            target=violation,
            details={"from": previous, "to": violation.status, "note": note.strip(), "partner": violation.partner_id},
        )
    return violation


TRANSITION_VERBS = {
    "start_investigation": "taken into investigation",
    "substantiate": "substantiated",
    "dismiss": "dismissed",
    "close": "closed",
}


def start_investigation(*, violation: Violation, actor, note: str) -> Violation:
    """reported -> investigating. Compliance officers only, with a note; refused from any other state."""
    return _run_violation_transition(violation=violation, actor=actor, transition_name="start_investigation", note=note)


def substantiate_violation(*, violation: Violation, actor, note: str) -> Violation:
    """investigating -> substantiated: the findings support the report; enforcement may follow."""
    return _run_violation_transition(violation=violation, actor=actor, transition_name="substantiate", note=note)


def dismiss_violation(*, violation: Violation, actor, note: str) -> Violation:
    """investigating -> dismissed: the findings do not support the report."""
    return _run_violation_transition(violation=violation, actor=actor, transition_name="dismiss", note=note)


def close_violation(*, violation: Violation, actor, note: str) -> Violation:
    """substantiated | dismissed -> closed."""
    return _run_violation_transition(violation=violation, actor=actor, transition_name="close", note=note)


def add_investigation_note(*, violation: Violation, actor, text: str) -> ViolationNote:
    """Append a note to the investigation log of an open violation (not closed). Compliance officers only."""
    require_compliance_officer(actor)
    if not text or not text.strip():
        raise ValidationError({"text": "A note needs a text."})
    with transaction.atomic():
        violation = _locked_violation(violation)
        if violation.status == ViolationStatus.CLOSED:
            raise ValidationError("A closed violation takes no more notes.")
        note = ViolationNote.objects.create(violation=violation, author=actor, text=text.strip())
        record_audit_event(actor=actor, action="violation.note_added", target=violation, details={"note": note.pk})
    return note


def attach_evidence(*, violation: Violation, actor, uploaded_file, description: str = "") -> EvidenceFile:
    """Store an evidence file for a violation that is not closed, in private storage, with its size, SHA-256
    and a type recognised from its content. Refuses files over EVIDENCE_MAX_BYTES and types other than text, PDF,
    PNG, JPEG or ZIP. Compliance officers only."""
    require_compliance_officer(actor)
    if uploaded_file.size > settings.EVIDENCE_MAX_BYTES:
        raise ValidationError(
            {"file": f"Evidence files may be at most {settings.EVIDENCE_MAX_BYTES // (1024 * 1024)} MiB."}
        )
    uploaded_file.seek(0)
    try:
        content_type = evidence_content_type(uploaded_file.read(EVIDENCE_SNIFF_BYTES))
    except ValidationError as error:
        raise ValidationError({"file": error.messages}) from None
    uploaded_file.seek(0)
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    with transaction.atomic():
        violation = _locked_violation(violation)
        if violation.status == ViolationStatus.CLOSED:
            raise ValidationError("A closed violation takes no more evidence.")
        evidence = EvidenceFile(
            violation=violation,
            original_name=(uploaded_file.name or "evidence")[-255:],
            description=description.strip()[:300],
            content_type=content_type,
            size=uploaded_file.size,
            sha256=digest.hexdigest(),
            uploaded_by=actor,
        )
        evidence.file.save("evidence", uploaded_file, save=False)
        evidence.save()
        record_audit_event(
            actor=actor,
            action="violation.evidence_attached",
            target=violation,
            details={
                "evidence": evidence.pk,
                "name": evidence.original_name,
                "sha256": evidence.sha256,
                "size": evidence.size,
                "content_type": content_type,
            },
        )
    return evidence


# Enforcement -----------------------------------------------------------------------------------------------------

PUNITIVE_KINDS = (
    EnforcementKind.WARNING,
    EnforcementKind.LEVEL_CAP,
    EnforcementKind.SUSPENSION,
    EnforcementKind.REMOVAL,
)
# Suspension, removal and reinstatement are announced by the partner lifecycle's own notice (with the reason).
KINDS_NOTIFIED_HERE = (EnforcementKind.WARNING, EnforcementKind.LEVEL_CAP)


def _require_enforceable(violation: Violation, kind: str) -> Violation:
    """Lock the organisation, then the violation (docs/architecture.md, "Locks"), and check both under the locks."""
    partner_services.lock_partner(Violation.objects.values_list("partner_id", flat=True).get(pk=violation.pk))
    violation = Violation.objects.select_for_update(of=("self",)).select_related("partner").get(pk=violation.pk)
    if kind in PUNITIVE_KINDS and violation.status != ViolationStatus.SUBSTANTIATED:
        raise ValidationError("Only a substantiated violation can lead to a warning, a cap, a suspension or removal.")
    if violation.partner.status == PartnerStatus.REMOVED:
        raise ValidationError("The organisation is removed; no further action can be taken against it.")
    return violation


def _record_action(
    *, violation: Violation, actor, kind: str, reason: str, starts_at: datetime, ends_at=None, cap_level=None
) -> EnforcementAction:
    action = EnforcementAction(
        partner=violation.partner,
        violation=violation,
        kind=kind,
        cap_level=cap_level,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason.strip(),
        created_by=actor,
    )
    action.full_clean()
    action.save()
    details = {"partner": violation.partner_id, "violation": violation.pk, "kind": kind, "reason": action.reason}
    if cap_level is not None:
        details["cap"] = AccessLevel(cap_level).label
    if ends_at is not None:
        details["ends_at"] = ends_at
    record_audit_event(actor=actor, action=f"enforcement.{kind}", target=action, details=details)
    if kind in KINDS_NOTIFIED_HERE:
        run_after_commit("compliance.enforcement_notice", action_id=action.pk)
    return action


def _require_reason(reason: str) -> None:
    if not reason or not reason.strip():
        raise ValidationError({"reason": "A written reason is required."})


def issue_warning(*, violation: Violation, actor, reason: str) -> EnforcementAction:
    """A formal warning for a substantiated violation; changes no access. The partner's admins are told why."""
    require_compliance_officer(actor)
    _require_reason(reason)
    with transaction.atomic():
        violation = _require_enforceable(violation, EnforcementKind.WARNING)
        return _record_action(
            violation=violation, actor=actor, kind=EnforcementKind.WARNING, reason=reason, starts_at=timezone.now()
        )


def impose_level_cap(
    *, violation: Violation, actor, cap_level: int, reason: str, ends_at: datetime | None = None
) -> EnforcementAction:
    """Cap the organisation's effective level (e.g. standard: no PoC) from now, until `ends_at` or for good. It
    takes effect at once through the entitlement rule. Refuses a cap of early (no cap) and an end in the past."""
    require_compliance_officer(actor)
    _require_reason(reason)
    if cap_level not in (AccessLevel.NONE, AccessLevel.GENERIC, AccessLevel.STANDARD):
        raise ValidationError({"cap_level": "A cap must be below early: none, generic or standard."})
    now = timezone.now()
    if ends_at is not None and ends_at <= now:
        raise ValidationError({"ends_at": "A cap must end in the future."})
    with transaction.atomic():
        violation = _require_enforceable(violation, EnforcementKind.LEVEL_CAP)
        return _record_action(
            violation=violation,
            actor=actor,
            kind=EnforcementKind.LEVEL_CAP,
            reason=reason,
            starts_at=now,
            ends_at=ends_at,
            cap_level=cap_level,
        )


def suspend_for_violation(
    *, violation: Violation, actor, reason: str, until: datetime | None = None
) -> EnforcementAction:
    """Suspend the organisation for a substantiated violation, until `until` (the timed-suspension task ends it)
    or until reinstated, through the partner lifecycle (which notifies the admins). Refuses what
    `suspend_partner` refuses (not active, an end in the past)."""
    require_compliance_officer(actor)
    _require_reason(reason)
    with transaction.atomic():
        violation = _require_enforceable(violation, EnforcementKind.SUSPENSION)
        partner_services.suspend_partner(partner=violation.partner, actor=actor, reason=reason, until=until)
        return _record_action(
            violation=violation,
            actor=actor,
            kind=EnforcementKind.SUSPENSION,
            reason=reason,
            starts_at=timezone.now(),
            ends_at=until,
        )


def remove_for_violation(*, violation: Violation, actor, reason: str) -> EnforcementAction:
    """Remove the organisation for good (docs/design.md: removal is final), through the partner lifecycle."""
    require_compliance_officer(actor)
    _require_reason(reason)
    with transaction.atomic():
        violation = _require_enforceable(violation, EnforcementKind.REMOVAL)
        partner_services.remove_partner(partner=violation.partner, actor=actor, reason=reason)
        return _record_action(
            violation=violation, actor=actor, kind=EnforcementKind.REMOVAL, reason=reason, starts_at=timezone.now()
        )


def reinstate_for_violation(*, violation: Violation, actor, reason: str) -> EnforcementAction:
    """Reinstate an organisation suspended over `violation`; open suspensions over it end now. Missed waves are
    delivered by the partner lifecycle's signal. Refuses an organisation that is not suspended."""
    require_compliance_officer(actor)
    _require_reason(reason)
    with transaction.atomic():
        violation = _require_enforceable(violation, EnforcementKind.REINSTATEMENT)
        partner_services.reinstate_partner(partner=violation.partner, actor=actor, reason=reason)
        now = timezone.now()
        _end_open_suspensions(partner_id=violation.partner_id, at=now)
        return _record_action(
            violation=violation, actor=actor, kind=EnforcementKind.REINSTATEMENT, reason=reason, starts_at=now
        )


def _end_open_suspensions(*, partner_id: int, at: datetime) -> None:
    EnforcementAction.objects.filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=at), partner_id=partner_id, kind=EnforcementKind.SUSPENSION
    ).update(ends_at=at)


@outbox_handler("compliance.enforcement_notice")
def send_enforcement_notice(*, action_id: int) -> int:
    """Email the organisation's active admins about a warning or a level cap, with the reason."""
    action = EnforcementAction.objects.select_related("partner").get(pk=action_id)
    recipients = list(
        PartnerMembership.objects.filter(
            partner=action.partner, role=MemberRole.ADMIN, is_active=True, user__is_active=True
        ).values_list("user__email", flat=True)
    )
    if not recipients:
        return 0
    if action.kind == EnforcementKind.LEVEL_CAP:
        headline = f"{action.partner}: access capped at {action.get_cap_level_display()} by the Forewarn program"
        until = f"{action.ends_at:%Y-%m-%d %H:%M} UTC" if action.ends_at else "further notice"
        effect = f"From {action.starts_at:%Y-%m-%d %H:%M} UTC until {until}."
    else:
        headline = f"{action.partner}: formal warning from the Forewarn program"
        effect = "This warning does not change your access."
    body = (
        f"{headline}.\n\nReason: {action.reason}\n{effect}\n\n"
        f"A partner admin may appeal: {settings.FOREWARN_PORTAL_URL}/portal/appeals/\n"
    )
    send_mail(f"[Forewarn] {headline}", body, settings.DEFAULT_FROM_EMAIL, recipients)
    return len(recipients)


# Appeals ---------------------------------------------------------------------------------------------------------


def _is_partner_admin(user, partner_id: int) -> bool:
    return PartnerMembership.objects.filter(
        user=user, partner_id=partner_id, role=MemberRole.ADMIN, is_active=True, user__is_active=True
    ).exists()


def file_appeal(*, actor, action: EnforcementAction, statement: str) -> Appeal:
    """A partner admin appeals an enforcement action against their own organisation with a written statement.
    Refuses anyone else, a reinstatement, an action already overturned and a second pending appeal."""
    if not _is_partner_admin(actor, action.partner_id):
        raise PermissionDenied("Only your organisation's partner admins can appeal.")
    if not statement or not statement.strip():
        raise ValidationError({"statement": "Write your statement."})
    with transaction.atomic():
        partner_services.lock_partner(action.partner_id)
        if not _is_partner_admin(actor, action.partner_id):  # again under the lock: deactivated or removed since
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
        _announce_entitlement_change([action.partner_id])
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
        run_after_commit("compliance.appeal_decision", appeal_id=appeal.pk)
    return appeal


@outbox_handler("compliance.appeal_decision")
def send_appeal_decision(*, appeal_id: int) -> int:
    """Email the organisation's active admins the decision on its appeal."""
    appeal = Appeal.objects.select_related("action__partner").get(pk=appeal_id)
    partner = appeal.action.partner
    recipients = list(
        PartnerMembership.objects.filter(
            partner=partner, role=MemberRole.ADMIN, is_active=True, user__is_active=True
        ).values_list("user__email", flat=True)
    )
    if not recipients:
        return 0
    headline = f"{partner}: your appeal against the {appeal.action.get_kind_display().lower()} is {appeal.status}"
    body = f"{headline}.\n\nDecision: {appeal.decision}\n\nPortal: {settings.FOREWARN_PORTAL_URL}/portal/appeals/\n"
    send_mail(f"[Forewarn] {headline}", body, settings.DEFAULT_FROM_EMAIL, recipients)
    return len(recipients)


# Jurisdiction policies taking effect -----------------------------------------------------------------------------


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
            _announce_entitlement_change([c.partner_id for c in changes if c.level_after > c.level_before])
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
            run_after_commit("compliance.policy_change_notices", policy_id=policy.pk)
        applied.append(policy.pk)


@outbox_handler("compliance.policy_change_notices")
def send_policy_change_notices(*, policy_id: int) -> int:
    """Tell each organisation whose level a policy changed, once (the row's `notified_at`)."""
    sent = 0
    while True:
        with transaction.atomic():
            change = (
                PolicyLevelChange.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("policy", "partner")
                .filter(policy_id=policy_id, notified_at__isnull=True)
                .first()
            )
            if change is None:
                return sent
            change.notified_at = timezone.now()
            change.save(update_fields=["notified_at"])
            recipients = list(
                PartnerMembership.objects.filter(
                    partner=change.partner, role=MemberRole.ADMIN, is_active=True, user__is_active=True
                ).values_list("user__email", flat=True)
            )
            if recipients:
                policy = change.policy
                headline = (
                    f"{change.partner}: access level changes from {change.get_level_before_display()} to "
                    f"{change.get_level_after_display()}"
                )
                body = (
                    f"{headline}, from {policy.effective_at:%Y-%m-%d %H:%M} UTC, under the program's policy for "
                    f"{policy.country.name}.\n\nReason: {policy.reason}\n"
                )
                # Inside the transaction: if sending fails, the row stays unnotified and the next run retries.
                send_mail(f"[Forewarn] {headline}", body, settings.DEFAULT_FROM_EMAIL, recipients)
                sent += 1


# Periodic reviews ------------------------------------------------------------------------------------------------


def review_interval() -> relativedelta:
    return relativedelta(months=settings.COMPLIANCE_REVIEW_INTERVAL_MONTHS)


def open_due_reviews(*, now: datetime | None = None) -> list[int]:
    """Open a review for every active organisation whose last review was completed (or, never reviewed, which
    joined) one review interval ago or more, unless one is open already (unique per organisation, so repeated or
    concurrent runs open each at most once). Returns the ids of the reviews opened."""
    at = now or timezone.now()
    last_completed = dict(
        ComplianceReview.objects.filter(status=ReviewStatus.COMPLETED)
        .values("partner_id")
        .annotate(last=Max("completed_at"))
        .values_list("partner_id", "last")
    )
    has_open = ComplianceReview.objects.filter(partner=OuterRef("pk"), status=ReviewStatus.OPEN)
    opened = []
    for partner_id, created_at in (
        Partner.objects.filter(status=PartnerStatus.ACTIVE).exclude(Exists(has_open)).values_list("pk", "created_at")
    ):
        due_at = last_completed.get(partner_id, created_at) + review_interval()
        if due_at > at:
            continue
        try:
            with transaction.atomic():
                review = ComplianceReview.objects.create(partner_id=partner_id, due_at=due_at, opened_at=at)
                record_audit_event(
                    actor=None, action="review.opened", target=review, details={"partner": partner_id, "due": due_at}
                )
        except IntegrityError:  # opened by a concurrent run
            continue
        opened.append(review.pk)
    return opened


def complete_review(*, review: ComplianceReview, actor, findings: str, outcome: str) -> ComplianceReview:
    """Record the findings and outcome of an open review. Compliance officers only; a completed review is
    refused (the next one opens after the interval)."""
    require_compliance_officer(actor)
    if not findings or not findings.strip():
        raise ValidationError({"findings": "Record the findings."})
    if outcome not in ReviewOutcome.values:
        raise ValidationError({"outcome": "Choose an outcome."})
    with transaction.atomic():
        review = ComplianceReview.objects.select_for_update().get(pk=review.pk)
        try:
            review.complete()
        except TransitionNotAllowed:
            raise ValidationError("This review is already completed.") from None
        review.reviewer = actor
        review.findings = findings.strip()
        review.outcome = outcome
        review.completed_at = timezone.now()
        review.save()
        record_audit_event(
            actor=actor,
            action="review.completed",
            target=review,
            details={"partner": review.partner_id, "outcome": outcome},
        )
    return review
