"""CSAF 2.0 export: one organisation's copy with the content of its level, TLP 2.0 mapped to CSAF's TLP 1.0 labels,
valid against the official CSAF 2.0 JSON schema shipped in advisories/csaf/schemas; in the API and the portal."""

import copy
import json
from decimal import Decimal

import jsonschema
import pytest
from django.urls import reverse

from advisories import csaf
from advisories.fingerprinting import without_homoglyphs
from advisories.models import TLP, AccessKind, DownloadEvent
from core.levels import AccessLevel
from tests.api.conftest import release
from tests.factories import AdvisoryFactory, HandlingAcknowledgementFactory

VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


def _csaf(api, advisory):
    response = api.get(reverse("api:csaf", args=[advisory.identifier]))
    assert response.status_code == 200, response.content
    return response.json()


def _text(document):
    """The document's text as a reader sees it: look-alike letters of the fingerprint folded back."""
    return without_homoglyphs(json.dumps(document, ensure_ascii=False))


@pytest.mark.django_db
@pytest.mark.parametrize("level", [AccessLevel.GENERIC, AccessLevel.STANDARD, AccessLevel.EARLY])
def test_csaf_export_validates_against_the_official_schema_at_every_level(
    level, advisory, make_partner, make_token, api_client_for
):
    advisory.cvss_vector, advisory.cvss_score = VECTOR, Decimal("9.8")
    advisory.affected_products = "Widget Server 4.x\nWidget Agent 2"
    advisory.save()
    api = api_client_for(make_token(make_partner(level=level))[1])
    release(advisory, level)

    document = _csaf(api, advisory)

    csaf.validate(document)
    assert document["document"]["category"] == "csaf_security_advisory"
    assert document["document"]["tracking"]["id"] == advisory.identifier
    assert document["vulnerabilities"][0]["cve"] == advisory.cve_ids[0]
    assert document["vulnerabilities"][0]["scores"][0]["cvss_v3"]["baseSeverity"] == "CRITICAL"
    assert [p["name"] for p in document["product_tree"]["full_product_names"]] == [
        "Widget Server 4.x",
        "Widget Agent 2",
    ]


@pytest.mark.django_db
def test_csaf_of_an_advisory_without_cve_products_or_cvss_still_validates(early_api):
    bare = AdvisoryFactory(cve_ids=[], affected_products="", cvss_vector="", cvss_score=None)
    release(bare, AccessLevel.EARLY)

    document = _csaf(early_api, bare)

    csaf.validate(document)
    assert "cve" not in document["vulnerabilities"][0]
    assert "scores" not in document["vulnerabilities"][0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("level", "has_standard_text", "files"),
    [
        (AccessLevel.GENERIC, False, set()),
        (AccessLevel.STANDARD, True, {"Detection rule"}),
        (AccessLevel.EARLY, True, {"Detection rule", "Proof of concept"}),
    ],
)
def test_csaf_carries_exactly_the_content_of_the_organisations_level(
    level, has_standard_text, files, advisory, make_partner, make_token, api_client_for
):
    api = api_client_for(make_token(make_partner(level=level))[1])
    release(advisory, level)

    document = _csaf(api, advisory)

    assert "Generic summary of the flaw." in _text(document)
    assert ("Standard **technical** details." in _text(document)) is has_standard_text
    referenced = {a.name for a in advisory.artifacts.all() if f"/artifacts/{a.pk}/" in _text(document)}
    assert referenced == files


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("tlp", "csaf_label"),
    [
        (TLP.CLEAR, "WHITE"),
        (TLP.GREEN, "GREEN"),
        (TLP.AMBER, "AMBER"),
        (TLP.AMBER_STRICT, "AMBER"),
        (TLP.RED, "RED"),
    ],
)
def test_tlp_2_labels_map_to_csaf_tlp_1_labels(tlp, csaf_label, early_api):
    advisory = AdvisoryFactory(tlp=tlp)
    release(advisory, AccessLevel.EARLY)

    distribution = _csaf(early_api, advisory)["document"]["distribution"]

    assert distribution["tlp"]["label"] == csaf_label
    assert f"TLP:{tlp}" in distribution["text"]


@pytest.mark.django_db
def test_csaf_is_personalised_and_recorded_with_the_token(early_api, early_token, advisory, early_partner):
    release(advisory, AccessLevel.EARLY)

    document = _csaf(early_api, advisory)

    event = DownloadEvent.objects.get()
    assert (event.kind, event.api_token, event.partner) == (AccessKind.CSAF, early_token[0], early_partner)
    issued_to = [n for n in document["document"]["notes"] if n["category"] == "legal_disclaimer"][0]["text"]
    assert str(early_partner) in issued_to
    assert f"delivery {event.delivery_id}" in issued_to


@pytest.mark.django_db
def test_portal_offers_the_same_csaf_as_a_recorded_download(client, early_partner, member_of, advisory):
    release(advisory, AccessLevel.EARLY)
    user = member_of(early_partner)
    HandlingAcknowledgementFactory(user=user, partner=early_partner, advisory=advisory)
    client.force_login(user)

    response = client.get(reverse("advisories:csaf", args=[advisory.identifier]))

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{advisory.identifier.lower()}.json"'
    document = json.loads(response.content)
    csaf.validate(document)
    assert "Standard **technical** details." in _text(document)
    event = DownloadEvent.objects.get()
    assert (event.kind, event.user, event.api_token) == (AccessKind.CSAF, user, None)
    assert (
        reverse("advisories:csaf", args=[advisory.identifier])
        in client.get(reverse("advisories:detail", args=[advisory.identifier])).text
    )


@pytest.mark.django_db
def test_schema_validation_rejects_a_document_that_breaks_the_standard(early_api, advisory):
    release(advisory, AccessLevel.EARLY)
    document = _csaf(early_api, advisory)

    wrong_label = copy.deepcopy(document)
    wrong_label["document"]["distribution"]["tlp"]["label"] = "CLEAR"
    bad_score = copy.deepcopy(document)
    bad_score["vulnerabilities"][0]["scores"] = [{"products": ["x"], "cvss_v3": {"version": "3.1"}}]

    for broken in (wrong_label, bad_score):
        with pytest.raises(
            jsonschema.ValidationError, match="is not one of|is not valid under any of the given schemas"
        ):
            csaf.validate(broken)
