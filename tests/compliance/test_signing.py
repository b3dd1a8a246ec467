"""Click-through signing by partner admins: the full text shown, its SHA-256 carried by the form and checked,
the evidence stored; analysts read but cannot sign; superseded versions cannot be signed; a printable record."""

import hashlib
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from advisories import services as advisory_services
from compliance import services
from compliance.models import Agreement
from core.levels import AccessLevel
from core.models import AuditEvent
from partners.signals import entitlement_changed
from tests.factories import (
    AdvisoryFactory,
    ArtifactFactory,
    ContractVersionFactory,
    PartnerFactory,
    WaveFactory,
    acknowledge_handling_for_every_member,
)

HIDDEN_SHA = re.compile(r'name="text_sha256" value="([0-9a-f]{64})"')


def _sign_url(version):
    return reverse("compliance:partner_sign", args=[version.pk])


def _shown_sha256(client, version):
    response = client.get(_sign_url(version))
    assert response.status_code == 200
    return HIDDEN_SHA.search(response.text).group(1)


def _signature(sha, **overrides):
    return {"signer_name": "Dana Admin", "signer_title": "CISO", "consent": "on", "text_sha256": sha, **overrides}


@pytest.fixture
def nda_v2(nda):
    """A new NDA in force since yesterday; agreements to v1 keep counting for 30 more days."""
    return ContractVersionFactory(
        contract_key="nda",
        version=2,
        text="# NDA v2\n\nThe partner keeps advisories **confidential** until public release, and reports leaks.",
        effective_at=timezone.now() - timedelta(days=1),
        previous_versions_valid_until=timezone.now() + timedelta(days=30),
    )


@pytest.mark.django_db
def test_sign_page_shows_the_full_text_and_carries_its_sha256(admin_client, nda_v2):
    response = admin_client.get(_sign_url(nda_v2))

    assert response.status_code == 200
    assert "The partner keeps advisories <strong>confidential</strong> until public release" in response.text
    assert HIDDEN_SHA.search(response.text).group(1) == hashlib.sha256(nda_v2.text.encode()).hexdigest()


@pytest.mark.django_db
def test_signing_stores_the_evidence_and_the_hash_of_the_text_shown(admin_client, partner, partner_admin, nda_v2):
    shown = _shown_sha256(admin_client, nda_v2)
    signed_at = timezone.now().replace(microsecond=0) + timedelta(minutes=5)

    with time_machine.travel(signed_at, tick=False):
        response = admin_client.post(
            _sign_url(nda_v2), _signature(shown), REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="Signer Browser/2.0"
        )

    agreement = Agreement.objects.get(contract_version=nda_v2)
    assert response.status_code == 302
    assert response["Location"] == reverse("compliance:partner_agreement", args=[agreement.pk])
    assert agreement.partner == partner
    assert agreement.signed_by == partner_admin
    assert (agreement.signer_name, agreement.signer_title) == ("Dana Admin", "CISO")
    assert agreement.signed_at == signed_at
    assert agreement.ip_address == "203.0.113.9"
    assert agreement.user_agent == "Signer Browser/2.0"
    assert agreement.signed_text_sha256 == shown == hashlib.sha256(nda_v2.text.encode()).hexdigest()
    assert agreement.valid_until == signed_at + timedelta(days=nda_v2.validity_days)
    event = AuditEvent.objects.get(action="agreement.signed")
    assert event.actor == partner_admin
    assert event.ip_address == "203.0.113.9"


@pytest.mark.django_db
def test_signing_is_refused_when_the_text_shown_is_not_the_versions_text(admin_client, nda_v2):
    stale = hashlib.sha256(b"an earlier draft of the text").hexdigest()

    response = admin_client.post(_sign_url(nda_v2), _signature(stale))

    assert response.status_code == 400
    assert "not the current text of this version" in response.text
    assert not Agreement.objects.filter(contract_version=nda_v2).exists()
    # The form offers the hash of the text actually shown again, not the stale one.
    assert HIDDEN_SHA.search(response.text).group(1) == nda_v2.text_sha256


@pytest.mark.django_db
def test_signing_is_refused_without_explicit_consent(admin_client, nda_v2):
    data = _signature(nda_v2.text_sha256)
    del data["consent"]

    response = admin_client.post(_sign_url(nda_v2), data)

    assert response.status_code == 400
    assert "Confirm that you agree" in response.text
    assert not Agreement.objects.filter(contract_version=nda_v2).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("missing", ["signer_name", "signer_title"])
def test_signing_is_refused_without_a_typed_name_and_job_title(admin_client, nda_v2, missing):
    response = admin_client.post(_sign_url(nda_v2), _signature(nda_v2.text_sha256, **{missing: "  "}))

    assert response.status_code == 400
    assert not Agreement.objects.filter(contract_version=nda_v2).exists()


@pytest.mark.django_db
def test_analyst_reads_the_agreements_but_is_offered_no_signing_form(client, partner_analyst, nda_v2):
    client.force_login(partner_analyst)

    listing = client.get(reverse("compliance:partner_agreements"))
    page = client.get(_sign_url(nda_v2))

    assert listing.status_code == 200
    assert "Partner Program NDA v2" in listing.text
    assert page.status_code == 200
    assert "confidential" in page.text
    assert 'name="text_sha256"' not in page.text
    assert "Only your organisation's partner admins can sign" in page.text


@pytest.mark.django_db
def test_analyst_cannot_sign_even_by_posting_the_form(client, partner_analyst, nda_v2):
    client.force_login(partner_analyst)

    response = client.post(_sign_url(nda_v2), _signature(nda_v2.text_sha256))

    assert response.status_code == 403
    assert not Agreement.objects.filter(contract_version=nda_v2).exists()


@pytest.mark.django_db
def test_sign_service_refuses_an_analyst(partner_analyst, nda_v2):
    with pytest.raises(PermissionDenied, match="partner admins can sign agreements"):
        services.sign_agreement(
            user=partner_analyst,
            contract_version=nda_v2,
            signer_name="Ana Lyst",
            signer_title="Analyst",
            consent=True,
            shown_text_sha256=nda_v2.text_sha256,
        )


@pytest.mark.django_db
def test_sign_service_refuses_an_admin_signing_for_another_organisation(partner, partner_admin, nda_v2, manager):
    other = PartnerFactory()

    with pytest.raises(PermissionDenied, match="partner admins can sign agreements"):
        services.record_agreement(
            actor=partner_admin,
            partner=other,
            contract_version=nda_v2,
            signer_name="Dana Admin",
            signer_title="CISO",
            signed_at=timezone.now(),
            signed_by=partner_admin,
        )


@pytest.mark.django_db
def test_signing_a_superseded_version_is_refused(admin_client, nda, nda_v2):
    response = admin_client.post(_sign_url(nda), _signature(nda.text_sha256))

    assert response.status_code == 400
    assert "This contract version has been superseded; sign the current one." in response.text
    assert not Agreement.objects.filter(contract_version=nda, signed_by__isnull=False).exists()


@pytest.mark.django_db
def test_a_superseded_version_can_be_read_but_offers_no_signing_form(admin_client, nda, nda_v2):
    response = admin_client.get(_sign_url(nda))

    assert response.status_code == 200
    assert "has been superseded and can no longer be signed" in response.text
    assert 'name="text_sha256"' not in response.text


@pytest.mark.django_db
def test_a_version_not_yet_in_effect_cannot_be_opened_or_signed(admin_client, nda, partner_admin):
    future = ContractVersionFactory(contract_key="nda", version=3, effective_at=timezone.now() + timedelta(days=5))

    assert admin_client.get(_sign_url(future)).status_code == 404
    with pytest.raises(ValidationError, match="This contract version is not in effect yet"):
        services.sign_agreement(
            user=partner_admin,
            contract_version=future,
            signer_name="Dana Admin",
            signer_title="CISO",
            consent=True,
            shown_text_sha256=future.text_sha256,
        )


@pytest.mark.django_db
def test_staff_cannot_use_the_partner_agreement_pages(client, manager, nda):
    client.force_login(manager)

    assert client.get(reverse("compliance:partner_agreements")).status_code == 404
    assert client.get(_sign_url(nda)).status_code == 404


@pytest.mark.django_db
def test_partner_prints_its_signed_agreement_record(admin_client, nda_v2):
    admin_client.post(_sign_url(nda_v2), _signature(nda_v2.text_sha256), REMOTE_ADDR="203.0.113.9")
    agreement = Agreement.objects.get(contract_version=nda_v2)

    response = admin_client.get(reverse("compliance:partner_agreement", args=[agreement.pk]))

    assert response.status_code == 200
    assert "Signed agreement record" in response.text
    assert agreement.signed_text_sha256 in response.text
    assert "Dana Admin, CISO" in response.text
    assert "203.0.113.9" in response.text
    assert "The text below has exactly this SHA-256." in response.text
    assert "<strong>confidential</strong>" in response.text


@pytest.mark.django_db
def test_analyst_opens_the_record_of_the_organisations_agreement(client, partner, partner_analyst):
    agreement = Agreement.objects.filter(partner=partner).first()
    client.force_login(partner_analyst)

    assert client.get(reverse("compliance:partner_agreement", args=[agreement.pk])).status_code == 200


@pytest.mark.django_db
def test_another_organisations_agreement_record_answers_404(admin_client, make_partner):
    other = make_partner(legal_name="Other Org Ltd")
    foreign = Agreement.objects.filter(partner=other).first()

    assert admin_client.get(reverse("compliance:partner_agreement", args=[foreign.pk])).status_code == 404


@pytest.mark.django_db
def test_program_manager_prints_the_same_record(client, manager, partner):
    agreement = Agreement.objects.filter(partner=partner).first()
    client.force_login(manager)

    response = client.get(reverse("compliance:staff_agreement", args=[agreement.pk]))

    assert response.status_code == 200
    assert agreement.signed_text_sha256 in response.text
    assert partner.legal_name in response.text


@pytest.mark.django_db
def test_downloads_stop_at_the_second_the_agreement_expires_and_resume_when_the_admin_re_signs(
    client, partner, partner_admin, nda, poc_addendum
):
    advisory = AdvisoryFactory()
    poc = ArtifactFactory(advisory=advisory, level=AccessLevel.EARLY, content=b"print('poc')\n", filename="poc.py")
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=timezone.now())
    advisory_services.release_due_waves()
    acknowledge_handling_for_every_member(advisory)
    expiry = (timezone.now() + timedelta(minutes=10)).replace(microsecond=0)
    Agreement.objects.filter(partner=partner, contract_version=nda).update(valid_until=expiry)
    download = reverse("advisories:artifact", args=[advisory.identifier, poc.pk])
    client.force_login(partner_admin)

    with time_machine.travel(expiry - timedelta(seconds=1), tick=False):
        before = client.get(download)
    with time_machine.travel(expiry, tick=False):
        at_expiry = client.get(download)
    with time_machine.travel(expiry + timedelta(minutes=2), tick=False):
        still_expired = client.get(download)
        signed = client.post(_sign_url(nda), _signature(_shown_sha256(client, nda)))
        after_signing = client.get(download)

    assert before.status_code == 200
    assert at_expiry.status_code == 403
    assert still_expired.status_code == 403
    assert signed.status_code == 302
    assert after_signing.status_code == 200
    assert b"print('poc')" in b"".join(after_signing.streaming_content)


@pytest.mark.django_db
def test_signing_tells_higher_layers_after_commit_that_the_organisations_entitlement_changed(
    admin_client, partner, nda_v2, django_capture_on_commit_callbacks
):
    received = []

    def receiver(sender, partner_ids, **kwargs):
        received.append(partner_ids)

    entitlement_changed.connect(receiver, dispatch_uid="test-signing-entitlement")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            admin_client.post(_sign_url(nda_v2), _signature(nda_v2.text_sha256))
            assert received == []  # not before commit
    finally:
        entitlement_changed.disconnect(dispatch_uid="test-signing-entitlement")

    assert received == [[partner.pk]]
