"""Violations: reported -> investigating -> substantiated | dismissed -> closed, every step allowed from its source
states only, by compliance officers only, noted and audited; investigation notes and private evidence files."""

import hashlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from compliance import services
from compliance.models import Violation, ViolationStatus
from core.models import AuditEvent
from tests.factories import ViolationFactory

TRANSITIONS = {
    "start_investigation": (services.start_investigation, [ViolationStatus.REPORTED], ViolationStatus.INVESTIGATING),
    "substantiate": (services.substantiate_violation, [ViolationStatus.INVESTIGATING], ViolationStatus.SUBSTANTIATED),
    "dismiss": (services.dismiss_violation, [ViolationStatus.INVESTIGATING], ViolationStatus.DISMISSED),
    "close": (
        services.close_violation,
        [ViolationStatus.SUBSTANTIATED, ViolationStatus.DISMISSED],
        ViolationStatus.CLOSED,
    ),
}


def _violation_in(state, partner):
    violation = ViolationFactory(partner=partner)
    Violation.objects.filter(pk=violation.pk).update(status=state)
    return Violation.objects.get(pk=violation.pk)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "source"), [(name, source) for name, (_, sources, _) in TRANSITIONS.items() for source in sources]
)
def test_each_violation_transition_is_allowed_from_its_source_states(name, source, partner, compliance_officer):
    run, _, target = TRANSITIONS[name]
    violation = _violation_in(source, partner)

    run(violation=violation, actor=compliance_officer, note="Reason for the step")

    violation.refresh_from_db()
    assert violation.status == target
    event = AuditEvent.objects.filter(target_id=str(violation.pk), action=f"violation.{target}").get()
    assert event.details == {"from": source, "to": target, "note": "Reason for the step", "partner": partner.pk}
    assert violation.notes.get().text == "Reason for the step"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "state"),
    [
        (name, state)
        for name, (_, sources, _) in TRANSITIONS.items()
        for state in ViolationStatus.values
        if state not in sources
    ],
)
def test_each_violation_transition_is_refused_from_every_other_state(name, state, partner, compliance_officer):
    run, _, _ = TRANSITIONS[name]
    violation = _violation_in(state, partner)

    with pytest.raises(ValidationError, match="violation cannot be"):
        run(violation=violation, actor=compliance_officer, note="Trying anyway")

    violation.refresh_from_db()
    assert violation.status == state
    assert not AuditEvent.objects.filter(target_id=str(violation.pk)).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(TRANSITIONS))
def test_violation_transitions_are_refused_to_program_managers(name, partner, manager):
    run, sources, _ = TRANSITIONS[name]
    violation = _violation_in(sources[0], partner)

    with pytest.raises(PermissionDenied, match="Only compliance officers may do this"):
        run(violation=violation, actor=manager, note="Not my call")


@pytest.mark.django_db
def test_a_transition_without_a_note_is_refused(partner, compliance_officer):
    violation = _violation_in(ViolationStatus.REPORTED, partner)

    with pytest.raises(ValidationError, match="Explain the step in a note"):
        services.start_investigation(violation=violation, actor=compliance_officer, note="  ")


@pytest.mark.django_db
def test_program_managers_may_report_a_violation_and_it_is_audited(partner, manager):
    violation = services.report_violation(
        actor=manager, partner=partner, kind="misuse", severity="medium", summary="Shared with a customer"
    )

    assert violation.status == ViolationStatus.REPORTED
    assert AuditEvent.objects.filter(action="violation.reported", target_id=str(violation.pk)).exists()


@pytest.mark.django_db
def test_partner_users_may_not_report_violations(partner, partner_admin):
    with pytest.raises(PermissionDenied, match="You may not do this"):
        services.report_violation(
            actor=partner_admin, partner=partner, kind="misuse", severity="low", summary="Competitor"
        )


@pytest.mark.django_db
def test_an_investigation_note_is_added_and_audited(partner, compliance_officer):
    violation = _violation_in(ViolationStatus.INVESTIGATING, partner)

    note = services.add_investigation_note(violation=violation, actor=compliance_officer, text="Called their CISO.")

    assert list(violation.notes.values_list("text", flat=True)) == ["Called their CISO."]
    assert AuditEvent.objects.get(action="violation.note_added").details == {"note": note.pk}


@pytest.mark.django_db
def test_a_closed_violation_takes_no_more_notes(partner, compliance_officer):
    violation = _violation_in(ViolationStatus.CLOSED, partner)

    with pytest.raises(ValidationError, match="A closed violation takes no more notes"):
        services.add_investigation_note(violation=violation, actor=compliance_officer, text="Late")


@pytest.mark.django_db
def test_evidence_is_stored_privately_with_its_sha256_size_and_type(partner, compliance_officer):
    violation = _violation_in(ViolationStatus.INVESTIGATING, partner)
    content = b"2026-11-20 forum post: exploit for FWN-2026-0001\n"

    evidence = services.attach_evidence(
        violation=violation,
        actor=compliance_officer,
        uploaded_file=SimpleUploadedFile("forum.txt", content),
        description="Forum capture",
    )

    assert (evidence.sha256, evidence.size, evidence.content_type) == (
        hashlib.sha256(content).hexdigest(),
        len(content),
        "text/plain",
    )
    assert evidence.file.read() == content
    assert "forum" not in evidence.file.name  # the stored name carries nothing of the uploaded name
    with pytest.raises(NotImplementedError, match="Private files have no URL"):
        evidence.file.url  # noqa: B018 - private storage has no URL
    assert AuditEvent.objects.get(action="violation.evidence_attached").details["sha256"] == evidence.sha256


@pytest.mark.django_db
@pytest.mark.parametrize(
    "content", [b"MZ\x90\x00\x03\x00\x00\x00binary", b"<!DOCTYPE html><script>alert(1)</script>"], ids=["exe", "html"]
)
def test_evidence_of_a_refused_type_is_not_stored(content, partner, compliance_officer):
    violation = _violation_in(ViolationStatus.INVESTIGATING, partner)

    with pytest.raises(ValidationError, match="not this format|evidence must be wrapped in a ZIP"):
        services.attach_evidence(
            violation=violation, actor=compliance_officer, uploaded_file=SimpleUploadedFile("x.bin", content)
        )

    assert not violation.evidence_files.exists()


@pytest.mark.django_db
def test_evidence_over_the_size_limit_is_refused(partner, compliance_officer, settings):
    settings.EVIDENCE_MAX_BYTES = 10
    violation = _violation_in(ViolationStatus.INVESTIGATING, partner)

    with pytest.raises(ValidationError, match="Evidence files may be at most"):
        services.attach_evidence(
            violation=violation, actor=compliance_officer, uploaded_file=SimpleUploadedFile("x.txt", b"a" * 11)
        )
