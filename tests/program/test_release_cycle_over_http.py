"""The whole release cycle in the browser: a program manager writes an advisory with documents and files, plans
three waves, previews the recipients, and after the waves run sees deliveries, notices and first downloads."""

import io
import zipfile

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from advisories import tasks
from advisories.models import Advisory, AdvisoryStatus, Delivery, Notice, WaveStatus
from core.levels import AccessLevel
from core.models import AuditEvent
from tests.program.conftest import CRITICAL_VECTOR, as_input


def _zip_bytes():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("exploit/README.txt", "Run only in a lab.\n")
    return buffer.getvalue()


def _portal(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_manager_runs_the_whole_release_cycle_over_http(
    manager_client, cohort, hours_from_now, django_capture_on_commit_callbacks
):
    # Write the advisory: the identifier is assigned, the CVSS vector scored.
    response = manager_client.post(
        reverse("program_advisories:create"),
        {
            "title": "Heap overflow in Acme VPN gateway",
            "cve_ids": "cve-2026-31337, CVE-2026-31338",
            "affected_products": "Acme VPN 4.x",
            "cvss_vector": CRITICAL_VECTOR,
            "tlp": "AMBER",
            "public_release_at": as_input(hours_from_now(3)),
        },
    )
    advisory = Advisory.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("program_advisories:detail", args=[advisory.identifier])
    assert advisory.identifier.startswith("FWN-")
    assert advisory.cve_ids == ["CVE-2026-31337", "CVE-2026-31338"]
    assert (str(advisory.cvss_score), advisory.cvss_severity) == ("9.8", "Critical")
    assert advisory.status == AdvisoryStatus.DRAFT

    # Documents, with the live preview rendering through the sanitiser.
    preview = manager_client.post(reverse("program_advisories:preview"), {"text": "**Bold** <script>alert(1)</script>"})
    assert "<strong>Bold</strong>" in preview.text
    assert "<script" not in preview.text
    for level, body in (("generic", "A flaw in the gateway."), ("standard", "Overflow in `parse_ike()`.")):
        response = manager_client.post(
            reverse("program_advisories:document", args=[advisory.identifier, level]),
            {"title": f"{level} description", "body_markdown": body},
        )
        assert response.status_code == 302
    assert advisory.documents.count() == 2

    # Files: a detection rule (standard) and a zipped proof of concept (early).
    for level, name, upload in (
        (AccessLevel.STANDARD, "Snort rule", SimpleUploadedFile("acme.rules", b"alert tcp any any -> any 500 (...)\n")),
        (AccessLevel.EARLY, "Proof of concept", SimpleUploadedFile("poc.zip", _zip_bytes(), "application/x-zip")),
    ):
        response = manager_client.post(
            reverse("program_advisories:artifact_upload", args=[advisory.identifier]),
            {"name": name, "description": "", "level": level, "file": upload},
        )
        assert response.status_code == 302
    assert sorted(advisory.artifacts.values_list("content_type", flat=True)) == ["application/zip", "text/plain"]

    # Three waves.
    response = manager_client.post(
        reverse("program_advisories:plan", args=[advisory.identifier]),
        {
            "early_at": as_input(hours_from_now(1)),
            "standard_at": as_input(hours_from_now(2)),
            "public_release_at": as_input(hours_from_now(3)),
        },
    )
    assert response.status_code == 302
    advisory.refresh_from_db()
    assert advisory.status == AdvisoryStatus.SCHEDULED
    assert advisory.waves.filter(status=WaveStatus.SCHEDULED).count() == 3

    # The preview names who would receive the early wave now, and why the others would not.
    preview_page = manager_client.get(reverse("program_advisories:wave", args=[advisory.identifier, "early"]))
    recipients = [row.partner for row in preview_page.context["recipients"]]
    refused = {row.partner.legal_name: row.reasons for row in preview_page.context["refused"]}
    assert recipients == [cohort["early"]]
    assert refused["Dragon Defence"] == ["jurisdiction policy caps at generic"]
    assert refused["Quiet Co"] == ["organisation is suspended"]
    assert refused["Unsigned Inc"] == ["contracts unsigned or expired: capped at none"]
    assert refused["Capped By Enforcement"] == ["enforcement action caps at standard"]
    assert refused["Kestrel Labs"] == ["assigned level is standard"]

    # The waves run.
    for hours in (1, 2, 3):
        with time_machine.travel(hours_from_now(hours), tick=False), django_capture_on_commit_callbacks(execute=True):
            tasks.release_due_waves.delay()
    advisory.refresh_from_db()
    assert advisory.status == AdvisoryStatus.PUBLIC

    # A partner opens and downloads; the manager sees deliveries, notices and first downloads.
    early_analyst = cohort["early"].memberships.get().user
    poc = advisory.artifacts.get(level=AccessLevel.EARLY)
    partner_client = _portal(early_analyst)
    download_url = reverse("advisories:artifact", args=[advisory.identifier, poc.pk])
    first_try = partner_client.get(download_url)
    assert first_try.status_code == 302  # the TLP label and handling terms come first, once
    partner_client.post(first_try["Location"], {"acknowledge": "on"})
    download = partner_client.get(download_url)
    assert download.status_code == 200

    early_page = manager_client.get(reverse("program_advisories:wave", args=[advisory.identifier, "early"]))
    [delivery] = early_page.context["page"]
    assert delivery.partner == cohort["early"]
    assert delivery.first_access_by == early_analyst.email
    assert early_page.context["progress"]["opened"] == 1
    assert early_analyst.email in early_page.text

    generic_page = manager_client.get(reverse("program_advisories:wave", args=[advisory.identifier, "generic"]))
    generic_receivers = {d.partner.legal_name for d in generic_page.context["page"]}
    assert generic_receivers == {"Harbor AV", "Dragon Defence"}
    assert generic_page.context["progress"]["notified"] == 2
    assert Delivery.objects.filter(advisory=advisory).count() == 5  # early, standard x2 (kestrel, enforced), generic x2
    assert Notice.objects.filter(advisory=advisory).count() == 5
    assert len(mail.outbox) == 5
    assert AuditEvent.objects.filter(action="release_plan.scheduled", target_id=str(advisory.pk)).exists()
