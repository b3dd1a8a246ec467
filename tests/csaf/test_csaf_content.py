"""What a CSAF document says beyond the schema (the standard's optional tests): product identification helpers from
the authoring form (validated), remediations, the CWE, the canonical URL, the revision history of the
organisation's copy, and keys in order."""

import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from advisories import services
from advisories.copy_history import RevisionKind, revisions_of
from advisories.csaf.builder import advice_section, csaf_filename, sorted_keys
from advisories.models import Advisory
from advisories.validators import parse_affected_products
from core.levels import AccessLevel
from tests.factories import AdvisoryFactory, DocumentFactory, WaveFactory
from tests.program.conftest import CRITICAL_VECTOR, as_input

CPE = "cpe:2.3:a:widgetco:widget_server:4.2:*:*:*:*:*:*:*"
PURL = "pkg:pypi/widget-server@4.2"


def _document(partner, member_of, advisory):
    from partners import services as partner_services

    secret = partner_services.create_api_token(
        actor=member_of(partner, role="admin"), name="CSAF", expires_at=timezone.now() + timedelta(days=3)
    )[1]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = api.get(reverse("api:csaf", args=[advisory.identifier]))
    assert response.status_code == 200
    return response.json()


@pytest.mark.django_db
def test_document_carries_identifiers_cwe_remediations_and_its_canonical_url(make_partner, member_of, https_portal):
    advisory = AdvisoryFactory(
        affected_products="Widget Server 4.2\nWidget Agent",
        product_identifiers={"Widget Server 4.2": {"cpe": CPE, "purl": PURL}},
        cwe_id="CWE-22",
        tlp="GREEN",
    )
    DocumentFactory(
        advisory=advisory, level=AccessLevel.GENERIC, body_markdown="Summary.\n\n## Workaround\n\nTurn it off."
    )
    partner = make_partner(level=AccessLevel.GENERIC)
    WaveFactory(advisory=advisory, level=AccessLevel.GENERIC, scheduled_at=timezone.now())
    services.release_due_waves()

    document = _document(partner, member_of, advisory)

    products = document["product_tree"]["full_product_names"]
    assert products[0]["product_identification_helper"] == {"cpe": CPE, "purl": PURL}
    assert "product_identification_helper" not in products[1]
    vulnerability = document["vulnerabilities"][0]
    assert vulnerability["cwe"] == {
        "id": "CWE-22",
        "name": "Improper Limitation of a Pathname to a Restricted Directory ('Path Traversal')",
    }
    remediations = vulnerability["remediations"]
    assert [r["category"] for r in remediations] == ["vendor_fix", "workaround"]
    assert all(r["product_ids"] == [p["product_id"] for p in products] for r in remediations)
    self_reference = [r for r in document["document"]["references"] if r["category"] == "self"]
    year = timezone.now().year
    assert self_reference[0]["url"] == (
        f"https://forewarn.example/.well-known/csaf/green/{year}/{csaf_filename(advisory.identifier)}"
    )
    assert document["document"]["tracking"]["status"] == "final"
    assert json.dumps(document) == json.dumps(sorted_keys(document))


def test_keys_sort_as_the_reference_validator_expects():
    assert list(sorted_keys({"vectorString": 1, "baseScore": 2, "version": 3, "baseSeverity": 4})) == [
        "baseScore",
        "baseSeverity",
        "vectorString",
        "version",
    ]
    assert list(sorted_keys({"product_ids": 1, "product": 2, "productid": 3, "b": {"z": 1, "a": 2}})) == [
        "b",
        "product",
        "product_ids",
        "productid",
    ]
    assert list(sorted_keys({"b": {"z": 1, "a": 2}})["b"]) == ["a", "z"]


def test_advice_is_the_first_mitigation_or_workaround_section_up_to_the_next_heading_of_its_rank():
    text = "Intro\n\n## Mitigation\n\nBlock it.\n\n### Detail\n\nMore.\n\n## References\n\nNone."

    assert advice_section(text) == ("mitigation", "Block it.\n\n### Detail\n\nMore.")
    assert advice_section("# Workarounds\nDisable the module.") == ("workaround", "Disable the module.")
    # A fingerprinted copy: a phrase variant and a Cyrillic twin in the heading.
    assert advice_section("## Work-\u0430round\nDisable it.") == ("workaround", "Disable it.")
    assert advice_section("No advice here.") is None


def test_revisions_number_each_change_of_the_copy_and_merge_what_happens_at_one_instant():
    start = timezone.now()
    deliveries = [(1, start, AccessLevel.STANDARD), (2, start + timedelta(hours=1), AccessLevel.EARLY)]

    before = revisions_of(advisory_id=7, deliveries=deliveries, public_at=None)
    after = revisions_of(advisory_id=7, deliveries=deliveries, public_at=start + timedelta(hours=2))
    joined_late = revisions_of(advisory_id=7, deliveries=[(3, start, AccessLevel.GENERIC)], public_at=start)

    assert [(r.number, r.level, r.key) for r in before] == [
        (1, AccessLevel.STANDARD, "delivery:1"),
        (2, AccessLevel.EARLY, "delivery:2"),
    ]
    assert [r.key for r in after] == ["delivery:1", "delivery:2", "public:7"]
    assert after[:2] == before  # earlier revisions never change: a notification channel can key on them
    assert [(r.kind, r.key) for r in joined_late] == [(RevisionKind.DELIVERED_AND_PUBLIC, "delivery:3+public:7")]


# Authoring: the form takes the identifiers and the CWE, and refuses what a CSAF consumer could not use. -----------


def _form(hours_from_now, **overrides):
    return {
        "title": "Path traversal in Widget",
        "cve_ids": "CVE-2026-40001",
        "affected_products": f"Widget Server 4.2 | {CPE} | {PURL}\nWidget Agent",
        "cwe_id": "22",
        "cvss_vector": CRITICAL_VECTOR,
        "tlp": "AMBER",
        "public_release_at": as_input(hours_from_now(48)),
    } | overrides


@pytest.mark.django_db
def test_the_authoring_form_stores_product_identifiers_and_the_cwe(manager_client, hours_from_now):
    response = manager_client.post(reverse("program_advisories:create"), _form(hours_from_now))

    assert response.status_code == 302
    advisory = Advisory.objects.get()
    assert advisory.affected_products == "Widget Server 4.2\nWidget Agent"
    assert advisory.product_identifiers == {"Widget Server 4.2": {"cpe": CPE, "purl": PURL}}
    assert advisory.cwe_id == "CWE-22"
    edit = manager_client.get(reverse("program_advisories:edit", args=[advisory.identifier])).text
    assert f"Widget Server 4.2 | {CPE} | {PURL}" in edit


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("products", "cwe", "message"),
    [
        ("Widget | cpe:2.3:a:widgetco", "", "Not a CPE name"),
        ("Widget | pkg:pypi", "", "Not a package URL"),
        ("Widget | https://widget.example", "", "neither a CPE"),
        (f"Widget | {CPE} | {CPE}", "", "at most one CPE"),
        ("Widget\nWidget", "", "listed twice"),
        ("Widget", "CWE-99999", "Unknown CWE id"),
    ],
)
def test_the_authoring_form_refuses_identifiers_a_consumer_could_not_use(
    manager_client, hours_from_now, products, cwe, message
):
    response = manager_client.post(
        reverse("program_advisories:create"), _form(hours_from_now, affected_products=products, cwe_id=cwe)
    )

    assert response.status_code == 200
    assert message in response.text
    assert not Advisory.objects.exists()


@pytest.mark.django_db
def test_stored_identifiers_are_checked_by_the_model_too(manager):
    advisory = services.create_advisory(
        actor=manager, title="Checked", public_release_at=timezone.now() + timedelta(days=2), affected_products="A"
    )
    for identifiers in ({"A": {"cpe": "not-a-cpe"}}, {"B": {"purl": PURL}}, {"A": {"swid": "x"}}):
        advisory.product_identifiers = identifiers
        with pytest.raises(ValidationError, match="Not a CPE name|Not an affected product|Value must be valid JSON"):
            advisory.full_clean(exclude=["status"])


def test_product_lines_parse_into_names_and_identifiers():
    products = parse_affected_products(f" Widget 4 | {PURL} \n\nWidget 5 | {CPE}\n")

    assert [(p.name, p.identifiers) for p in products] == [("Widget 4", {"purl": PURL}), ("Widget 5", {"cpe": CPE})]
    assert products[0].as_line() == f"Widget 4 | {PURL}"


@pytest.mark.django_db
def test_a_copy_without_any_delivery_row_is_still_dated(make_partner, member_of, https_portal):
    """Defensive: an organisation granted the advisory without a delivery row still gets a valid document."""
    advisory = AdvisoryFactory()
    partner = make_partner(level=AccessLevel.EARLY)
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=timezone.now())
    services.release_due_waves()
    assert advisory.deliveries.filter(partner=partner).exists()
    advisory.deliveries.all().delete()

    document = _document(partner, member_of, advisory)

    assert document["document"]["tracking"]["version"] == "1"


@pytest.mark.django_db
def test_changes_since_lists_each_new_revision_once_with_a_stable_key(make_partner):
    """What a notification channel (webhooks) announces: deliveries and public releases after a moment, keyed."""
    from advisories.copy_history import changes_since

    partner, other = make_partner(level=AccessLevel.STANDARD), make_partner(level=AccessLevel.EARLY)
    advisory = AdvisoryFactory()
    start = timezone.now()
    for level, minutes in ((AccessLevel.EARLY, 1), (AccessLevel.STANDARD, 2), (AccessLevel.GENERIC, 3)):
        at = start + timedelta(minutes=minutes)
        WaveFactory(advisory=advisory, level=level, scheduled_at=at)
        services.release_due_waves(now=at)

    everything = changes_since(partner_id=partner.pk, since=start)
    later = changes_since(partner_id=partner.pk, since=start + timedelta(minutes=2))

    delivery = advisory.deliveries.get(partner=partner)
    assert [(a.pk, r.key) for a, r in everything] == [
        (advisory.pk, f"delivery:{delivery.pk}"),
        (advisory.pk, f"public:{advisory.pk}"),
    ]
    assert [r.key for _, r in later] == [f"public:{advisory.pk}"]
    assert [r.key for _, r in changes_since(partner_id=other.pk, since=start)][0].startswith("delivery:")
    assert changes_since(partner_id=partner.pk, since=start + timedelta(minutes=3)) == []
