"""STIX 2.1 bundles of an advisory's indicators: valid for the `stix2` library, holding the program's detection
indicators and rule files up to what the organisation received and may still see, and its own reported indicators
(never another organisation's); in the API and the portal, recorded like any download."""

import json
from datetime import timedelta

import pytest
import stix2
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from advisories import services
from advisories.models import AccessKind, DownloadEvent, PartnerIndicator
from advisories.stix.services import add_detection_indicator
from core.levels import AccessLevel
from partners.models import Partner
from tests.factories import AdvisoryFactory, DocumentFactory, HandlingAcknowledgementFactory, WaveFactory

SHA256 = "a" * 64


@pytest.fixture
def stix_advisory(manager):
    from guardian.shortcuts import assign_perm

    advisory = AdvisoryFactory(cve_ids=["CVE-2026-4242"], public_release_at=timezone.now() + timedelta(days=3))
    assign_perm("advisories.edit_advisory", manager, advisory)
    DocumentFactory(advisory=advisory, level=AccessLevel.GENERIC)
    services.add_artifact(
        actor=manager,
        advisory=advisory,
        level=AccessLevel.STANDARD,
        name="YARA rule",
        description="Matches the exploit",
        uploaded_file=SimpleUploadedFile(
            "detect.yar", b'rule fwn_exploit { strings: $a = "overflow" condition: $a }\n'
        ),
    )
    services.add_artifact(
        actor=manager,
        advisory=advisory,
        level=AccessLevel.EARLY,
        name="Early Snort rule",
        description="",
        uploaded_file=SimpleUploadedFile("early.rules", b'alert tcp any any -> any 445 (msg:"FWN"; sid:1;)\n'),
    )
    for level, kind, value in (
        (AccessLevel.STANDARD, "domain", "c2.example.com"),
        (AccessLevel.STANDARD, "ip", "2001:db8::7"),
        (AccessLevel.EARLY, "sha256", SHA256),
    ):
        add_detection_indicator(actor=manager, advisory=advisory, level=level, indicator_type=kind, value=value)
    return advisory


def _release(advisory, level):
    WaveFactory(advisory=advisory, level=level, scheduled_at=timezone.now())
    services.release_due_waves()


def _bundle(partner, make_token, advisory):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(partner)}")
    response = api.get(reverse("api:stix", args=[advisory.identifier]))
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def make_token(member_of):
    from partners import services as partner_services

    def make(partner):
        admin = member_of(partner, role="admin")
        return partner_services.create_api_token(
            actor=admin, name="Indicators", expires_at=timezone.now() + timedelta(days=30)
        )[1]

    return make


def _patterns(bundle):
    return {o["pattern"] for o in bundle["objects"] if o["type"] == "indicator" and o["pattern_type"] == "stix"}


@pytest.mark.django_db
def test_bundle_validates_with_stix2_and_links_every_indicator_to_the_cve(stix_advisory, make_partner, make_token):
    partner = make_partner(level=AccessLevel.EARLY)
    _release(stix_advisory, AccessLevel.EARLY)

    bundle = _bundle(partner, make_token, stix_advisory)

    parsed = stix2.parse(json.dumps(bundle), allow_custom=False)
    assert parsed.type == "bundle"
    vulnerabilities = [o for o in bundle["objects"] if o["type"] == "vulnerability"]
    assert [v["name"] for v in vulnerabilities] == ["CVE-2026-4242"]
    assert {"source_name": "cve", "external_id": "CVE-2026-4242"} in vulnerabilities[0]["external_references"]
    indicators = [o for o in bundle["objects"] if o["type"] == "indicator"]
    assert len(indicators) == 5
    assert {i["pattern_type"] for i in indicators} == {"stix", "yara", "snort"}
    related = {(r["source_ref"], r["target_ref"]) for r in bundle["objects"] if r["type"] == "relationship"}
    assert related == {(i["id"], vulnerabilities[0]["id"]) for i in indicators}
    assert all(o["object_marking_refs"] == [stix2.TLP_AMBER.id] for o in indicators)


@pytest.mark.django_db
def test_a_standard_partner_gets_no_early_indicator_or_rule(stix_advisory, make_partner, make_token):
    partner = make_partner(level=AccessLevel.STANDARD)
    _release(stix_advisory, AccessLevel.EARLY)
    _release(stix_advisory, AccessLevel.STANDARD)

    bundle = _bundle(partner, make_token, stix_advisory)

    assert _patterns(bundle) == {"[domain-name:value = 'c2.example.com']", "[ipv6-addr:value = '2001:db8::7']"}
    assert {o["pattern_type"] for o in bundle["objects"] if o["type"] == "indicator"} == {"stix", "yara"}


@pytest.mark.django_db
def test_an_early_partner_delivered_only_the_standard_wave_sees_no_early_indicator_before_its_time(
    stix_advisory, make_partner, make_token
):
    """A later cohort (or an organisation raised to early after the early wave) holds the standard delivery only:
    its live level is early, but the early indicators were not delivered to it."""
    partner = make_partner(level=AccessLevel.STANDARD)
    _release(stix_advisory, AccessLevel.STANDARD)
    Partner.objects.filter(pk=partner.pk).update(assigned_level=AccessLevel.EARLY)

    bundle = _bundle(partner, make_token, stix_advisory)

    assert f"[file:hashes.'SHA-256' = '{SHA256}']" not in _patterns(bundle)
    assert "snort" not in {o.get("pattern_type") for o in bundle["objects"]}


@pytest.mark.django_db
def test_a_partner_sees_its_own_reported_indicators_and_never_another_organisations(
    stix_advisory, make_partner, make_token, member_of
):
    mine, theirs = make_partner(level=AccessLevel.EARLY), make_partner(level=AccessLevel.EARLY)
    _release(stix_advisory, AccessLevel.EARLY)
    for partner, value in ((mine, "203.0.113.5"), (theirs, "203.0.113.66")):
        PartnerIndicator.objects.create(
            advisory=stix_advisory,
            partner=partner,
            submitted_by=member_of(partner),
            indicator_type="ip",
            value=value,
            first_seen=timezone.now() - timedelta(hours=1),
            confidence="high",
        )

    bundle = _bundle(mine, make_token, stix_advisory)

    patterns = _patterns(bundle)
    assert "[ipv4-addr:value = '203.0.113.5']" in patterns
    assert "[ipv4-addr:value = '203.0.113.66']" not in patterns
    reported = [o for o in bundle["objects"] if o["type"] == "indicator" and "203.0.113.5" in o["pattern"]][0]
    assert reported["confidence"] == 85
    assert reported["created_by_ref"] != bundle["objects"][1]["id"]  # the organisation's identity, not the program's


@pytest.mark.django_db
def test_bundle_is_recorded_with_each_rule_file_it_carries_and_personalised(stix_advisory, make_partner, make_token):
    partner = make_partner(level=AccessLevel.EARLY)
    _release(stix_advisory, AccessLevel.EARLY)

    bundle = _bundle(partner, make_token, stix_advisory)

    events = DownloadEvent.objects.filter(partner=partner, kind=AccessKind.STIX)
    assert events.count() == 3  # the bundle, the YARA rule, the Snort rule
    assert {e.artifact.name for e in events if e.artifact} == {"YARA rule", "Early Snort rule"}
    assert all(e.api_token is not None for e in events)
    yara = [o for o in bundle["objects"] if o.get("pattern_type") == "yara"][0]
    assert yara["pattern"].startswith("// ") and partner.legal_name in yara["pattern"]  # the issued-to banner
    note = [o for o in bundle["objects"] if o["type"] == "note"][0]
    assert partner.legal_name in note["content"]


@pytest.mark.django_db
def test_an_advisory_not_released_to_the_partner_has_no_bundle(stix_advisory, make_partner, make_token):
    partner = make_partner(level=AccessLevel.EARLY)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(partner)}")

    assert api.get(reverse("api:stix", args=[stix_advisory.identifier])).status_code == 404
    assert not DownloadEvent.objects.exists()


@pytest.mark.django_db
def test_portal_offers_the_bundle_after_the_handling_acknowledgement(client, stix_advisory, make_partner, member_of):
    partner = make_partner(level=AccessLevel.STANDARD)
    _release(stix_advisory, AccessLevel.STANDARD)
    user = member_of(partner)
    client.force_login(user)
    url = reverse("advisories:stix", args=[stix_advisory.identifier])

    assert client.get(url).status_code == 302  # acknowledge the TLP label first
    HandlingAcknowledgementFactory(user=user, partner=partner, advisory=stix_advisory)
    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/stix+json"
    stix2.parse(response.content.decode(), allow_custom=False)
    assert DownloadEvent.objects.filter(user=user, kind=AccessKind.STIX, api_token=None).exists()


@pytest.mark.django_db
def test_detection_indicators_are_validated_and_frozen_once_their_level_released(stix_advisory, manager):
    with pytest.raises(Exception, match="Not a domain name"):
        add_detection_indicator(
            actor=manager, advisory=stix_advisory, level=AccessLevel.STANDARD, indicator_type="domain", value="x y"
        )
    with pytest.raises(Exception, match="Detection indicators are one of"):
        add_detection_indicator(
            actor=manager, advisory=stix_advisory, level=AccessLevel.STANDARD, indicator_type="cve", value="CVE-2026-1"
        )
    _release(stix_advisory, AccessLevel.STANDARD)

    with pytest.raises(Exception, match="have been released"):
        add_detection_indicator(
            actor=manager, advisory=stix_advisory, level=AccessLevel.STANDARD, indicator_type="ip", value="192.0.2.1"
        )
