"""Bad input gets a clear error on the page and saves nothing: CVE ids, CVSS vectors, uploads, wave times."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from advisories import services
from advisories.models import Advisory, AdvisoryStatus, Artifact, ReleaseWave
from core.levels import AccessLevel
from core.models import AuditEvent
from tests.program.conftest import CRITICAL_VECTOR, as_input


def _new_advisory_form(hours_from_now, **overrides):
    data = {
        "title": "Path traversal in Widget",
        "cve_ids": "CVE-2026-40001",
        "affected_products": "Widget 2",
        "cvss_vector": CRITICAL_VECTOR,
        "tlp": "AMBER",
        "public_release_at": as_input(hours_from_now(48)),
    }
    return data | overrides


@pytest.fixture
def draft(manager, hours_from_now):
    return services.create_advisory(actor=manager, title="Draft", public_release_at=hours_from_now(48))


@pytest.mark.django_db
@pytest.mark.parametrize("cve_ids", ["CVE-26-1234", "CVE-2026-123", "2026-12345", "CVE-2026-12345x"])
def test_malformed_cve_id_is_refused_with_its_name_and_nothing_is_saved(manager_client, hours_from_now, cve_ids):
    response = manager_client.post(
        reverse("program_advisories:create"), _new_advisory_form(hours_from_now, cve_ids=cve_ids)
    )

    assert response.status_code == 200
    assert "Not a CVE id (expected CVE-YYYY-NNNN" in response.text
    assert cve_ids.upper() in response.text
    assert not Advisory.objects.exists()


@pytest.mark.django_db
def test_cve_id_named_by_another_advisory_is_refused_naming_that_advisory(manager_client, manager, hours_from_now):
    first = services.create_advisory(
        actor=manager, title="First", public_release_at=hours_from_now(24), cve_ids=["CVE-2026-40001"]
    )

    response = manager_client.post(
        reverse("program_advisories:create"), _new_advisory_form(hours_from_now, cve_ids="cve-2026-40001")
    )

    assert response.status_code == 200
    assert f"Already named by another advisory: CVE-2026-40001 ({first.identifier})" in response.text
    assert Advisory.objects.count() == 1


@pytest.mark.django_db
def test_editing_an_advisory_cannot_take_a_cve_id_of_another(manager_client, manager, draft, hours_from_now):
    services.create_advisory(
        actor=manager, title="Other", public_release_at=hours_from_now(24), cve_ids=["CVE-2026-5000"]
    )

    response = manager_client.post(
        reverse("program_advisories:edit", args=[draft.identifier]),
        {"title": "Draft renamed", "cve_ids": "CVE-2026-5000", "cvss_vector": "", "tlp": "RED"},
    )

    assert response.status_code == 200
    assert "Already named by another advisory" in response.text
    draft.refresh_from_db()
    assert (draft.title, draft.cve_ids, draft.tlp) == ("Draft", [], "AMBER")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("vector", "message"),
    [
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "A CVSS v3.1 vector starts with CVSS:3.1/."),
        ("CVSS:3.1/AV:N/AC:L", "Missing mandatory metrics"),
        ("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "Invalid CVSS v3.1 vector"),
        ("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "A CVSS v3.1 vector starts with CVSS:3.1/."),
    ],
)
def test_bad_cvss_vector_is_refused_with_the_reason_and_nothing_is_saved(
    manager_client, hours_from_now, vector, message
):
    response = manager_client.post(
        reverse("program_advisories:create"), _new_advisory_form(hours_from_now, cvss_vector=vector)
    )

    assert response.status_code == 200
    assert message in response.text
    assert not Advisory.objects.exists()


def _upload(client, advisory, upload, level=AccessLevel.EARLY):
    return client.post(
        reverse("program_advisories:artifact_upload", args=[advisory.identifier]),
        {"name": "Proof of concept", "level": level, "file": upload},
    )


@pytest.mark.django_db
@override_settings(ARTIFACT_MAX_BYTES=1024 * 1024)
def test_oversized_upload_is_refused_and_nothing_is_stored(manager_client, draft):
    response = _upload(manager_client, draft, SimpleUploadedFile("big.txt", b"a" * (1024 * 1024 + 1)))

    assert response.status_code == 200
    assert "Files may be at most 1 MiB." in response.text
    assert not Artifact.objects.exists()
    assert not AuditEvent.objects.filter(action="artifact.stored").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("poc.txt", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "this file is another binary format"),
        ("poc.py", b"\x7fELF\x02\x01\x01\x00\x00\x00", "this file is another binary format"),
        ("notes.txt", b"  <!DOCTYPE html><html><script>alert(1)</script>", "HTML, SVG and XML documents may not"),
        ("rule.yar", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "HTML, SVG and XML"),
        ("empty.txt", b"", "The submitted file is empty."),
    ],
)
def test_disallowed_upload_is_refused_by_its_content_not_its_name(manager_client, draft, filename, content, message):
    response = _upload(manager_client, draft, SimpleUploadedFile(filename, content, content_type="text/plain"))

    assert response.status_code == 200
    assert message in response.text
    assert not Artifact.objects.exists()


@pytest.mark.django_db
def test_pdf_named_like_text_is_stored_as_pdf(manager_client, draft):
    _upload(manager_client, draft, SimpleUploadedFile("report.txt", b"%PDF-1.7\n...", content_type="text/html"))

    assert Artifact.objects.get().content_type == "application/pdf"


def _plan(client, advisory, early, standard, public):
    return client.post(
        reverse("program_advisories:plan", args=[advisory.identifier]),
        {
            "early_at": as_input(early) if early else "",
            "standard_at": as_input(standard) if standard else "",
            "public_release_at": as_input(public),
        },
    )


STANDARD_BEFORE_EARLY = "The standard wave cannot come before the early wave."
EARLY_AFTER_PUBLIC = "The early wave must come no later than the public release."
STANDARD_AFTER_PUBLIC = "The standard wave must come no later than the public release."


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("early", "standard", "public", "errors"),
    [
        (2, 1, 3, {"standard_at": [STANDARD_BEFORE_EARLY]}),
        (1, 4, 3, {"standard_at": [STANDARD_AFTER_PUBLIC]}),
        (4, 2, 3, {"standard_at": [STANDARD_BEFORE_EARLY], "early_at": [EARLY_AFTER_PUBLIC]}),
    ],
)
def test_out_of_order_waves_are_refused_beside_their_fields_and_nothing_is_scheduled(
    manager_client, draft, hours_from_now, early, standard, public, errors
):
    response = _plan(manager_client, draft, hours_from_now(early), hours_from_now(standard), hours_from_now(public))

    assert response.status_code == 200
    assert response.context["form"].errors == errors
    assert not ReleaseWave.objects.exists()
    draft.refresh_from_db()
    assert draft.status == AdvisoryStatus.DRAFT


@pytest.mark.django_db
def test_every_mistake_of_a_plan_is_reported_in_one_submit_when_it_has_several(manager_client, draft, hours_from_now):
    response = _plan(manager_client, draft, hours_from_now(-1), hours_from_now(5), hours_from_now(3))

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "early_at": ["This time is in the past."],
        "standard_at": [STANDARD_AFTER_PUBLIC],
    }
    assert "2 problems to fix" in response.text
    assert not ReleaseWave.objects.exists()


@pytest.mark.django_db
def test_a_wave_in_the_past_is_refused_beside_its_field(manager_client, draft, hours_from_now):
    response = _plan(manager_client, draft, hours_from_now(-1), hours_from_now(2), hours_from_now(3))

    assert response.status_code == 200
    assert response.context["form"].errors == {"early_at": ["This time is in the past."]}
    assert not ReleaseWave.objects.exists()


@pytest.mark.django_db
@override_settings(ARTIFACT_MAX_BYTES=1024 * 1024)
def test_an_upload_declared_far_too_large_is_refused_before_its_body_is_read(manager_client, draft):
    response = manager_client.post(
        reverse("program_advisories:artifact_upload", args=[draft.identifier]),
        {"name": "Huge", "level": AccessLevel.EARLY, "file": SimpleUploadedFile("huge.txt", b"a" * (2 * 1024 * 1024))},
    )

    assert response.status_code == 413
    assert "Files may be at most 1 MiB." in response.text
    assert not Artifact.objects.exists()
