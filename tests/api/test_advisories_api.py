"""The advisory endpoints: incremental sync, filters, cursor pagination, recorded and personalised downloads through
the portal's code path, per-token rate limiting, and the OpenAPI schema and docs served without a CDN."""

import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from advisories.api.throttling import ApiTokenRateThrottle
from advisories.fingerprinting.personalisation import fingerprinted_markdown
from advisories.models import AccessKind, DownloadEvent
from core.levels import AccessLevel
from core.models import AuditEvent
from tests.api.conftest import release
from tests.factories import AdvisoryFactory, ArtifactFactory, DocumentFactory

LIST = "/api/v1/advisories/"


def _identifiers(response):
    assert response.status_code == 200, response.content
    return [a["identifier"] for a in response.json()["results"]]


# Listing and sync ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_list_describes_each_advisory_with_links_to_its_detail_and_csaf(early_api, advisory):
    advisory.cvss_score = Decimal("9.8")
    advisory.affected_products = "Widget Server 4.x\nWidget Agent"
    advisory.save()
    release(advisory, AccessLevel.EARLY)

    item = early_api.get(LIST).json()["results"][0]

    assert item["identifier"] == advisory.identifier
    assert item["severity"] == "critical"
    assert item["cvss_score"] == 9.8
    assert item["affected_products"] == ["Widget Server 4.x", "Widget Agent"]
    assert item["tlp"] == "AMBER"
    assert item["url"].endswith(reverse("api:advisory", args=[advisory.identifier]))
    assert item["csaf_url"].endswith(reverse("api:csaf", args=[advisory.identifier]))


@pytest.mark.django_db
def test_updated_since_returns_only_advisories_whose_copy_changed_since(early_api):
    start = timezone.now()
    old, new = AdvisoryFactory(), AdvisoryFactory()
    with time_machine.travel(start - timedelta(days=2), tick=False):
        release(old, AccessLevel.EARLY)
    with time_machine.travel(start - timedelta(hours=1), tick=False):
        release(new, AccessLevel.EARLY)

    response = early_api.get(LIST, {"updated_since": (start - timedelta(days=1)).isoformat()})

    assert _identifiers(response) == [new.identifier]


@pytest.mark.django_db
def test_an_edited_description_brings_the_advisory_back_into_the_sync(make_partner, make_token, api_client_for):
    partner = make_partner(level=AccessLevel.STANDARD)
    api = api_client_for(make_token(partner)[1])
    start = timezone.now()
    with time_machine.travel(start - timedelta(days=2), tick=False):
        advisory = AdvisoryFactory()
        document = DocumentFactory(advisory=advisory, level=AccessLevel.STANDARD)
        release(advisory, AccessLevel.STANDARD)
    since = {"updated_since": (start - timedelta(days=1)).isoformat()}
    assert _identifiers(api.get(LIST, since)) == []

    with time_machine.travel(start, tick=False):
        document.body_markdown = "Corrected detection guidance."
        document.save()

    assert _identifiers(api.get(LIST, since)) == [advisory.identifier]


@pytest.mark.django_db
def test_a_description_above_the_organisations_level_does_not_bring_the_advisory_back(
    make_partner, make_token, api_client_for
):
    partner = make_partner(level=AccessLevel.GENERIC)
    api = api_client_for(make_token(partner)[1])
    start = timezone.now()
    with time_machine.travel(start - timedelta(days=2), tick=False):
        advisory = AdvisoryFactory()
        DocumentFactory(advisory=advisory, level=AccessLevel.GENERIC)
        standard = DocumentFactory(advisory=advisory, level=AccessLevel.STANDARD)
        release(advisory, AccessLevel.GENERIC)
    with time_machine.travel(start, tick=False):
        standard.save()

    assert _identifiers(api.get(LIST, {"updated_since": (start - timedelta(days=1)).isoformat()})) == []


@pytest.mark.django_db
def test_filters_by_product_cve_and_severity(early_api):
    widget = AdvisoryFactory(
        affected_products="Widget Server 4.x", cve_ids=["CVE-2026-11111"], cvss_score=Decimal("5.3")
    )
    gadget = AdvisoryFactory(affected_products="Gadget OS", cve_ids=["CVE-2026-22222"], cvss_score=Decimal("9.1"))
    for advisory in (widget, gadget):
        release(advisory, AccessLevel.EARLY)

    assert _identifiers(early_api.get(LIST, {"product": "widget"})) == [widget.identifier]
    assert _identifiers(early_api.get(LIST, {"cve": "CVE-2026-22222"})) == [gadget.identifier]
    assert _identifiers(early_api.get(LIST, {"cve": "CVE-2026-2222"})) == []
    assert _identifiers(early_api.get(LIST, {"severity": "medium"})) == [widget.identifier]
    assert _identifiers(early_api.get(LIST, {"severity": "critical"})) == [gadget.identifier]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [
        {"severity": "severe"},
        {"cve": "2026-1"},
        {"updated_since": "yesterday"},
        {"updated_since": "2026-11-25T08:00:00"},
        {"product": "x" * 201},
        {"product": "a\x00b"},
        {"product": ""},
    ],
)
def test_invalid_filters_answer_400(early_api, params):
    response = early_api.get(LIST, params)

    assert response.status_code == 400
    assert set(response.json()) == set(params)


@pytest.mark.django_db
def test_updated_since_accepts_any_offset_and_instants_at_the_edge_of_the_calendar(early_api):
    release(AdvisoryFactory(), AccessLevel.EARLY)
    changed_at = early_api.get(LIST).json()["results"][0]["changed_at"]
    just_before = (datetime.fromisoformat(changed_at) - timedelta(seconds=1)).astimezone(
        timezone.get_fixed_timezone(-300)
    )

    assert len(_identifiers(early_api.get(LIST, {"updated_since": just_before.isoformat()}))) == 1
    assert len(_identifiers(early_api.get(LIST, {"updated_since": "0001-01-01T00:00:00+05:00"}))) == 1
    assert _identifiers(early_api.get(LIST, {"updated_since": "9999-12-31T23:59:59-05:00"})) == []


@pytest.mark.django_db
def test_cursor_pagination_walks_every_advisory_once_oldest_change_first(early_api):
    start = timezone.now() - timedelta(days=1)
    advisories = []
    for minute in range(55):
        advisory = AdvisoryFactory()
        with time_machine.travel(start + timedelta(minutes=minute), tick=False):
            release(advisory, AccessLevel.EARLY)
        advisories.append(advisory.identifier)

    first = early_api.get(LIST).json()
    second = early_api.get(first["next"]).json()

    assert len(first["results"]) == 50
    assert [a["identifier"] for a in first["results"] + second["results"]] == advisories
    assert second["next"] is None


@pytest.mark.django_db
def test_invalid_cursor_answers_404(early_api):
    assert early_api.get(LIST, {"cursor": "garbage"}).status_code == 404


@pytest.mark.django_db
def test_list_query_count_does_not_grow_with_the_number_of_advisories(early_api):
    def list_queries():
        with CaptureQueriesContext(connection) as queries:
            assert early_api.get(LIST).status_code == 200
        return len(queries)

    release(AdvisoryFactory(), AccessLevel.EARLY)
    list_queries()  # the token's first use also writes its last-used time
    few = list_queries()
    for _ in range(15):
        release(AdvisoryFactory(), AccessLevel.EARLY)

    assert list_queries() == few


@pytest.mark.django_db
def test_detail_query_count_does_not_grow_with_documents_and_files(early_api, advisory):
    release(advisory, AccessLevel.EARLY)
    early_api.get(reverse("api:advisory", args=[advisory.identifier]))  # first use writes the last-used time
    with CaptureQueriesContext(connection) as before:
        early_api.get(reverse("api:advisory", args=[advisory.identifier]))
    second = AdvisoryFactory()
    for _ in range(5):
        ArtifactFactory(advisory=second, level=AccessLevel.EARLY)
    DocumentFactory(advisory=second, level=AccessLevel.GENERIC)
    DocumentFactory(advisory=second, level=AccessLevel.STANDARD)
    release(second, AccessLevel.EARLY)

    with CaptureQueriesContext(connection) as after:
        early_api.get(reverse("api:advisory", args=[second.identifier]))

    assert len(after) == len(before)


# Detail and downloads: the portal's code path ------------------------------------------------------------------


@pytest.mark.django_db
def test_detail_carries_documents_up_to_the_level_rendered_safely_and_is_recorded_as_a_view(
    early_api, early_token, advisory, early_partner
):
    standard = advisory.documents.get(level=AccessLevel.STANDARD)
    standard.body_markdown = "Standard **technical** details, {{= shown | given =}} here."
    standard.save()
    release(advisory, AccessLevel.EARLY)

    body = early_api.get(reverse("api:advisory", args=[advisory.identifier]), HTTP_USER_AGENT="Sync/2.0").json()

    assert [d["level"] for d in body["documents"]] == ["generic", "standard"]
    # The API serves the same fingerprinted copy as the portal: one alternative of the author's variant point.
    assert re.fullmatch(
        r"<p>Standard <strong>technical</strong> details, (shown|given) here.</p>", body["documents"][1]["body_html"]
    )
    event = DownloadEvent.objects.get()
    assert body["documents"][1]["body_markdown"] == fingerprinted_markdown(
        standard.body_markdown, delivery=event.delivery, user=event.user, advisory=advisory
    )
    assert {a["name"] for a in body["artifacts"]} == {"Detection rule", "Proof of concept"}
    assert (event.kind, event.partner, event.api_token, event.user) == (
        AccessKind.VIEW,
        early_partner,
        early_token[0],
        early_token[0].created_by,
    )
    assert event.user_agent == "Sync/2.0"
    assert f"delivery {event.delivery_id}" in body["issued_to"]


@pytest.mark.django_db
def test_download_is_personalised_and_recorded_like_in_the_portal(early_api, early_token, advisory, early_partner):
    release(advisory, AccessLevel.EARLY)
    poc = advisory.artifacts.get(level=AccessLevel.EARLY)

    response = early_api.get(
        reverse("api:artifact", args=[advisory.identifier, poc.pk]), HTTP_ACCEPT="application/json"
    )

    assert response.status_code == 200
    first_line, rest = b"".join(response.streaming_content).decode().split("\n", 1)
    assert first_line.startswith("# TLP:AMBER - issued to ")
    assert str(early_partner) in first_line
    assert rest == "print('proof of concept')\n"
    assert response["Content-Disposition"] == 'attachment; filename="poc.py"'
    event = DownloadEvent.objects.get(kind=AccessKind.DOWNLOAD)
    assert (event.artifact, event.api_token) == (poc, early_token[0])
    assert f"delivery {event.delivery_id}" in first_line


@pytest.mark.django_db
def test_binary_files_are_served_unchanged(early_api, advisory):
    payload = bytes(range(256))
    binary = ArtifactFactory(advisory=advisory, level=AccessLevel.EARLY, content=payload, filename="sample.bin")
    release(advisory, AccessLevel.EARLY)

    response = early_api.get(reverse("api:artifact", args=[advisory.identifier, binary.pk]))

    assert b"".join(response.streaming_content) == payload


@pytest.mark.django_db
def test_responses_are_never_cached(early_api, advisory):
    release(advisory, AccessLevel.EARLY)

    assert early_api.get(reverse("api:advisory", args=[advisory.identifier]))["Cache-Control"] == "private, no-store"


# Rate limiting ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_token_is_rate_limited_on_its_own_and_throttled_requests_are_not_audited(
    monkeypatch, early_api, early_partner, make_token, api_client_for
):
    monkeypatch.setattr(ApiTokenRateThrottle, "rate", "2/minute", raising=False)
    other = api_client_for(make_token(early_partner, name="Second system")[1])

    assert [early_api.get(LIST).status_code for _ in range(2)] == [200, 200]
    before = AuditEvent.objects.count()
    throttled = early_api.get(LIST)

    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0
    assert AuditEvent.objects.count() == before
    assert other.get(LIST).status_code == 200


# Schema and docs -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_openapi_schema_is_served_without_a_token():
    response = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/v1/advisories/",
        "/api/v1/advisories/{identifier}/",
        "/api/v1/advisories/{identifier}/csaf/",
        "/api/v1/advisories/{identifier}/stix/",
        "/api/v1/advisories/{identifier}/artifacts/{artifact_id}/",
        "/api/v1/advisories/{identifier}/protection/",
        "/api/v1/advisories/{identifier}/indicators/",
    }
    assert schema["components"]["securitySchemes"]["apiToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["apiToken"]["description"],
    }


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_api_docs_load_no_asset_from_another_site(client, page):
    response = client.get(page)

    assert response.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert assets
    assert all(asset.startswith("/") for asset in assets), assets
    assert "cdn" not in response.text.lower()
    assert "validator.swagger.io" not in response.text


@pytest.mark.django_db
def test_swagger_ui_shows_no_validator_badge_fetched_from_swagger_io(client):
    assert '"validatorUrl": null' in client.get("/api/v1/docs/").text
