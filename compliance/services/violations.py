"""Violations: reported by program staff, investigated by compliance officers (notes, evidence files) and
substantiated or dismissed, then closed."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django_fsm import TransitionNotAllowed

from compliance.models import EvidenceFile, Violation, ViolationNote, ViolationStatus
from core.roles import COMPLIANCE_OFFICERS, PROGRAM_MANAGERS, require_compliance_officer, require_staff_role
from core.services import record_audit_event
from core.uploads import inspect_upload


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
    upload = inspect_upload(
        uploaded_file,
        max_bytes=settings.EVIDENCE_MAX_BYTES,
        too_large=f"Evidence files may be at most {settings.EVIDENCE_MAX_BYTES // (1024 * 1024)} MiB.",
        sniff_bytes=EVIDENCE_SNIFF_BYTES,
        content_type_of=evidence_content_type,
    )
    with transaction.atomic():
        violation = _locked_violation(violation)
        if violation.status == ViolationStatus.CLOSED:
            raise ValidationError("A closed violation takes no more evidence.")
        evidence = EvidenceFile(
            violation=violation,
            original_name=(uploaded_file.name or "evidence")[-255:],
            description=description.strip()[:300],
            content_type=upload.content_type,
            size=upload.size,
            sha256=upload.sha256,
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
                "content_type": upload.content_type,
            },
        )
    return evidence
