"""Coverage figures for managers, checked against the database: per advisory (receiving organisations, shipped
before the public release, timeline) and per organisation over twelve months (on time, late, never)."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advisories import services as advisory_services
from advisories.models import ProtectionState, ProtectionStatus
from advisories.protection import selectors, services
from compliance.entitlements import partner_access
from core.levels import AccessLevel
from tests.advisories.protection.conftest import release
from tests.factories import AdvisoryFactory, DeliveryFactory, ProtectionStatusFactory, WaveFactory

pytestmark = pytest.mark.django_db

SHIPPING = {"products": "Acme EDR 7.4.2"}


def ship(user, advisory, **fields):
    access = partner_access(user)
    services.report_protection_status(access=access, advisory=advisory, state="in_progress")
    return services.report_protection_status(access=access, advisory=advisory, state="shipped", **SHIPPING, **fields)


@pytest.fixture
def organisations(make_partner, member_of):
    """Four early organisations with one analyst each: (partner, user)."""
    return [
        (partner, member_of(partner))
        for partner in (make_partner(legal_name=name) for name in ("Alpha", "Bravo", "Charlie", "Delta"))
    ]


@pytest.fixture
def covered(organisations, advisory, make_partner):
    """Alpha ships before the public release, Bravo after it, Charlie says not applicable, Delta never reports;
    Echo joins after the release and receives nothing. Returns the advisory."""
    release(advisory)
    make_partner(legal_name="Echo")
    (alpha, alpha_user), (bravo, bravo_user), (charlie, charlie_user), _ = organisations
    ship(alpha_user, advisory)
    services.report_protection_status(access=partner_access(charlie_user), advisory=advisory, state="not_applicable")
    with time_machine.travel(advisory.public_release_at + timedelta(hours=3), tick=False):
        ship(bravo_user, advisory)
    return advisory


def test_coverage_counts_match_the_database(covered):
    coverage = selectors.advisory_coverage(advisory=covered)

    shipped_before = ProtectionStatus.objects.filter(
        advisory=covered, state=ProtectionState.SHIPPED, shipped_at__lte=covered.public_release_at
    ).count()
    receiving = covered.deliveries.values("partner").distinct().count()
    assert (coverage.receiving, coverage.shipped_before_release) == (receiving, shipped_before) == (4, 1)
    assert coverage.counts == {"not_started": 1, "in_progress": 0, "shipped": 2, "not_applicable": 1}


def test_coverage_rows_name_each_receiving_organisation_with_its_outcome(covered):
    rows = {row.partner.legal_name: row for row in selectors.advisory_coverage(advisory=covered).rows}

    assert sorted(rows) == ["Alpha", "Bravo", "Charlie", "Delta"]
    assert rows["Alpha"].shipped_before_release and not rows["Bravo"].shipped_before_release
    assert rows["Bravo"].shipped_at > covered.public_release_at
    assert rows["Delta"].state == ProtectionState.NOT_STARTED
    assert all(row.level == AccessLevel.EARLY and row.holds_access_now for row in rows.values())


def test_timeline_orders_deliveries_shipments_and_the_public_release(covered):
    timeline = selectors.advisory_coverage(advisory=covered).timeline

    assert [entry.at for entry in timeline] == sorted(entry.at for entry in timeline)
    events = [
        (entry.what, entry.partner.legal_name if entry.partner else None, entry.shipped_so_far) for entry in timeline
    ]
    assert events[-3:] == [
        ("shipped protection", "Alpha", 1),
        ("public release", None, 1),
        ("shipped protection", "Bravo", 2),
    ]
    assert [e for e in events if e[0].startswith("received")] == [
        ("received (early)", name, 0) for name in ("Alpha", "Bravo", "Charlie", "Delta")
    ]


def test_coverage_page_shows_the_figures(client, covered, manager):
    client.force_login(manager)

    response = client.get(reverse("protection:coverage", args=[covered.identifier]))

    assert response.status_code == 200
    assert '<dd id="receiving">4</dd>' in response.text
    assert '<dd id="shipped-before-release">1 of 4</dd>' in response.text


def test_coverage_page_makes_the_same_number_of_queries_whatever_the_number_of_organisations(
    client, advisory, manager, make_partner, member_of
):
    def page_queries():
        client.force_login(manager)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("protection:coverage", args=[advisory.identifier]))
        assert response.status_code == 200
        return len(queries)

    users = [member_of(make_partner(legal_name=f"Org {n}")) for n in range(2)]
    release(advisory)
    for user in users:
        ship(user, advisory)
    few = page_queries()

    more = [member_of(make_partner(legal_name=f"Late Org {n}")) for n in range(6)]
    WaveFactory(advisory=advisory, level=AccessLevel.STANDARD, scheduled_at=timezone.now())
    advisory_services.release_due_waves()
    for user in more[:4]:
        ship(user, advisory)
    services.submit_partner_indicator(
        access=partner_access(more[0]),
        advisory=advisory,
        indicator_type="ip",
        value="192.0.2.1",
        first_seen=timezone.now(),
        confidence="low",
    )
    many = page_queries()

    assert advisory.deliveries.values("partner").distinct().count() == 8
    assert many == few
    assert few <= 30


# Per organisation, over twelve months ----------------------------------------------------------------------------


@pytest.fixture
def history(make_partner):
    """One organisation's year: on time, late, never, not applicable; one older than a year and one not yet public
    (both left out); another organisation's shipment (left out)."""
    partner = make_partner(legal_name="Reviewed Org")
    other = make_partner(legal_name="Other Org")
    now = timezone.now()

    def received(days_ago, *, to=partner, state=None, shipped_hours_after_release=None, public_in_days=None):
        public = now + timedelta(days=public_in_days) if public_in_days else now - timedelta(days=days_ago)
        advisory = AdvisoryFactory(public_release_at=public, status="released")
        DeliveryFactory(
            wave=WaveFactory(advisory=advisory, scheduled_at=public - timedelta(days=7)),
            partner=to,
            delivered_at=public - timedelta(days=7),
        )
        if state:
            shipped_at = (
                public + timedelta(hours=shipped_hours_after_release)
                if shipped_hours_after_release is not None
                else None
            )
            ProtectionStatusFactory(advisory=advisory, partner=to, state=state, shipped_at=shipped_at)
        return advisory

    advisories = {
        "on time": received(30, state="shipped", shipped_hours_after_release=-2),
        "on time at release": received(60, state="shipped", shipped_hours_after_release=0),
        "late": received(90, state="shipped", shipped_hours_after_release=5),
        "never (in progress)": received(120, state="in_progress"),
        "never (no report)": received(200),
        "not applicable": received(300, state="not_applicable"),
        "older than a year": received(400, state="shipped", shipped_hours_after_release=-1),
        "not public yet": received(0, public_in_days=3),
    }
    received(10, to=other, state="shipped", shipped_hours_after_release=-1)
    return partner, advisories


def test_partner_record_counts_on_time_late_and_never_over_twelve_months(history):
    partner, advisories = history

    record = selectors.partner_protection_record(partner=partner)

    assert (record.on_time, record.late, record.never, record.not_applicable) == (2, 1, 2, 1)
    assert {row.advisory.pk for row in record.rows} == {
        advisory.pk for name, advisory in advisories.items() if name not in ("older than a year", "not public yet")
    }


def test_partner_record_page_shows_the_counts(client, history, manager):
    partner, _ = history
    client.force_login(manager)

    response = client.get(reverse("protection:partner_record", args=[partner.pk]))

    assert response.status_code == 200
    for element, count in (("on-time", 2), ("late", 1), ("never", 2), ("not-applicable", 1)):
        assert f'<dd id="{element}">{count}</dd>' in response.text


def test_partner_record_page_makes_the_same_number_of_queries_whatever_the_number_of_advisories(
    client, manager, make_partner
):
    partner = make_partner()

    def add_advisories(count):
        for _ in range(count):
            advisory = AdvisoryFactory(public_release_at=timezone.now() - timedelta(days=5), status="released")
            DeliveryFactory(wave=WaveFactory(advisory=advisory), partner=partner)
            ProtectionStatusFactory(advisory=advisory, partner=partner, state="in_progress")

    def page_queries():
        client.force_login(manager)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("protection:partner_record", args=[partner.pk])).status_code == 200
        return len(queries)

    add_advisories(2)
    few = page_queries()
    add_advisories(8)

    assert page_queries() == few
