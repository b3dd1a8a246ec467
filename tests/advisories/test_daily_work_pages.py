"""What partners, managers and compliance officers read on the advisory pages: the protection panel speaking to
the state and the date, the severity word and product lines, the API token shown whole once, the manager's file
downloads (audited, need-to-know), the draft with a public release in the past, and leak results with one row per
copy and no preset accusation."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from advisories import services
from advisories.models import AdvisoryStatus, LeakSample
from advisories.protection import services as protection_services
from compliance.entitlements import partner_access
from compliance.models import Violation
from core.levels import AccessLevel
from core.models import AuditEvent
from partners.models import MemberRole
from tests.factories import (
    AdvisoryFactory,
    ArtifactFactory,
    ComplianceOfficerFactory,
    DocumentFactory,
    ProgramManagerFactory,
    WaveFactory,
    acknowledge_handling_for_every_member,
)

pytestmark = pytest.mark.django_db

SHIPPING = {"products": "Acme EDR 7.4.2", "signature_ids": "ACME-1"}


@pytest.fixture
def reader(make_partner, member_of):
    partner = make_partner(level=AccessLevel.EARLY, legal_name="Reading Org")
    return member_of(partner, role=MemberRole.ADMIN)


def _received(advisory, reader):
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=timezone.now())
    services.release_due_waves()
    acknowledge_handling_for_every_member(advisory)
    return partner_access(reader)


def _panel(client, advisory) -> str:
    response = client.get(reverse("advisories:detail", args=[advisory.identifier]))
    return re.search(r'<section class="card protection-panel".*?</section>', response.text, re.DOTALL).group(0)


def test_the_protection_panel_asks_for_a_report_before_the_release_when_nothing_shipped(client, reader, advisory):
    _received(advisory, reader)
    client.force_login(reader)

    panel = _panel(client, advisory)

    assert "before the public release" in panel
    assert "Report protection status or feedback" in panel


def test_the_protection_panel_thanks_instead_of_asking_when_the_protection_shipped(client, reader, advisory):
    access = _received(advisory, reader)
    protection_services.report_protection_status(access=access, advisory=advisory, state="shipped", **SHIPPING)
    client.force_login(reader)

    panel = _panel(client, advisory)

    assert "has shipped" in panel
    assert "before the public release" not in panel


def test_the_protection_panel_speaks_of_a_public_advisory_when_its_release_has_passed(client, reader, advisory):
    _received(advisory, reader)
    type(advisory).objects.filter(pk=advisory.pk).update(
        status=AdvisoryStatus.PUBLIC, public_release_at=timezone.now() - timedelta(days=1)
    )
    client.force_login(reader)

    panel = _panel(client, advisory)

    assert "has been public since" in panel
    assert "before the public release" not in panel


def test_the_partner_view_shows_the_severity_word_and_one_product_per_line(client, reader):
    advisory = AdvisoryFactory(
        affected_products="Example VPN 4.0\nExample VPN appliance 7",
        cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        cvss_score="9.8",
    )
    DocumentFactory(advisory=advisory, level=AccessLevel.GENERIC)
    _received(advisory, reader)
    client.force_login(reader)

    response = client.get(reverse("advisories:detail", args=[advisory.identifier]))

    assert '9.8 <span class="severity-word">Critical</span>' in response.text
    assert "Example VPN 4.0<br>Example VPN appliance 7" in response.text


def test_a_new_token_is_shown_whole_once_with_a_working_curl_example_and_revoke_is_not_primary(
    client, make_partner, member_of
):
    admin = member_of(make_partner(), role=MemberRole.ADMIN)
    client.force_login(admin)

    created = client.post(reverse("advisories:api_tokens"), {"name": "Pipeline", "expires_in_days": 30})
    secret = re.search(r'<code id="new-token">([^<]+)</code>', created.text).group(1)

    assert f"Authorization: Bearer {secret}" in created.text
    assert "http://testserver/api/v1/advisories/" in created.text
    assert 'data-copy-target="new-token"' in created.text
    assert created["Cache-Control"] == "private, no-store"
    listing = client.get(reverse("advisories:api_tokens"))
    assert secret not in listing.text  # shown once
    assert '<button type="submit" class="danger-outline">Revoke…</button>' in listing.text
    assert client.get(reverse("api:advisories"), HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200


def test_an_assigned_manager_downloads_an_advisorys_file_and_the_download_is_audited(client, manager):
    advisory = services.create_advisory(
        actor=manager, title="Files", public_release_at=timezone.now() + timedelta(days=3)
    )
    artifact = ArtifactFactory(advisory=advisory, level=AccessLevel.EARLY, name="Proof of concept")
    client.force_login(manager)

    page = client.get(reverse("program_advisories:detail", args=[advisory.identifier]))
    url = reverse("program_advisories:artifact", args=[advisory.identifier, artifact.pk])
    response = client.get(url)

    assert f'href="{url}"' in page.text
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content)
    assert AuditEvent.objects.filter(action="artifact.downloaded_by_staff", actor=manager).exists()


def test_an_unassigned_manager_cannot_download_a_file_of_an_unreleased_advisory(client, manager):
    other_manager = ProgramManagerFactory(email="other.manager@example.test")
    advisory = services.create_advisory(
        actor=manager, title="Secret", public_release_at=timezone.now() + timedelta(days=3)
    )
    artifact = ArtifactFactory(advisory=advisory, level=AccessLevel.EARLY)
    client.force_login(other_manager)

    response = client.get(reverse("program_advisories:artifact", args=[advisory.identifier, artifact.pk]))

    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="artifact.downloaded_by_staff").exists()


def test_a_draft_whose_public_release_is_past_is_warned_about_when_created_and_shown(client, manager):
    client.force_login(manager)

    response = client.post(
        reverse("program_advisories:create"),
        {"title": "Late", "tlp": "AMBER", "public_release_at": "2020-01-01 10:00"},
        follow=True,
    )

    assert response.status_code == 200
    assert response.text.count("is in the past") >= 2  # the message after saving and the page's own warning
    assert "2020-01-01 10:00 UTC" in response.text


@pytest.fixture
def traced_incident(make_partner, member_of, advisory):
    """An incident on a released advisory with a stored trace listing one served copy three times (one row per
    access event, as the ranking may give it)."""
    officer = ComplianceOfficerFactory()
    partner = make_partner(legal_name="Suspect Ltd")
    member_of(partner)
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=timezone.now())
    services.release_due_waves()
    incident = services.open_leak_incident(
        actor=officer, advisory=advisory, observed_at=timezone.now(), description="Posted on a forum."
    )
    delivery = advisory.deliveries.get(partner=partner)
    row = {
        "delivery": delivery.pk,
        "partner": partner.pk,
        "partner_name": str(partner),
        "level": "early",
        "user": 1,
        "user_email": "reader@suspect.test",
        "agreements": 40,
        "slots": 40,
        "p_value": 1e-12,
        "adjusted_p_value": 2e-12,
    }
    LeakSample.objects.create(
        incident=incident,
        text="leaked text",
        trace_result={"slots": 40, "threshold": 1e-6, "candidates": 3, "match": row, "ranked": [row, row, row]},
        submitted_by=officer,
    )
    return officer, incident, partner


def test_leak_results_list_each_served_copy_once_when_the_trace_repeats_it(client, traced_incident):
    officer, incident, _partner = traced_incident
    client.force_login(officer)

    response = client.get(reverse("leaks:detail", args=[incident.pk]))

    ranked = re.search(r"One row per served copy.*?</table>", response.text, re.DOTALL).group(0)
    assert ranked.count("reader@suspect.test") == 1


def test_opening_a_violation_from_a_leak_presets_no_severity_and_refuses_none_chosen(client, traced_incident):
    officer, incident, partner = traced_incident
    client.force_login(officer)
    url = reverse("leaks:open_violation", args=[incident.pk])

    detail = client.get(reverse("leaks:detail", args=[incident.pk]))
    page = client.get(f"{url}?partner={partner.pk}")
    refused = client.post(url, {"partner": partner.pk, "severity": ""})

    assert 'name="severity"' not in detail.text  # no one-click violation with a preset severity on the results
    severity = re.search(r'<select name="severity".*?</select>', page.text, re.DOTALL).group(0)
    assert re.findall(r'<option value="([^"]*)" selected>', severity) == [""]  # the placeholder, nothing else
    assert refused.status_code == 400
    assert "Choose the severity" in refused.text
    assert not Violation.objects.exists()
