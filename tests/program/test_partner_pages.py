"""The staff partner list (search, filters, pagination, a fixed number of queries) and partner page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from advisories import services as advisory_services
from advisories.models import AccessKind
from compliance.entitlements import partner_access
from core.levels import AccessLevel
from partners import services
from partners.models import PartnerStatus
from tests.confirmation import CONFIRMED
from tests.factories import (
    JurisdictionPolicyFactory,
    LevelCapFactory,
    MembershipFactory,
    PartnerDomainFactory,
    WaveFactory,
)


def _names(response):
    return [partner.legal_name for partner in response.context["rows"]]


@pytest.mark.django_db
def test_the_partner_list_searches_names_and_domains(manager_client, make_partner):
    make_partner(legal_name="Northwind Antivirus Inc.")
    PartnerDomainFactory(partner=make_partner(legal_name="Kestrel IDS Ltd"), domain="kestrel.test")

    assert _names(manager_client.get(reverse("program:partner_list"), {"q": "northwind"})) == [
        "Northwind Antivirus Inc."
    ]
    assert _names(manager_client.get(reverse("program:partner_list"), {"q": "kestrel.test"})) == ["Kestrel IDS Ltd"]


@pytest.mark.django_db
def test_the_partner_list_filters_by_status_assigned_level_and_country(manager_client, make_partner, manager):
    make_partner(legal_name="A", level=AccessLevel.EARLY, country="US")
    make_partner(legal_name="B", level=AccessLevel.STANDARD, country="US")
    make_partner(legal_name="C", level=AccessLevel.STANDARD, country="GB")
    services.suspend_partner(partner=make_partner(legal_name="D"), actor=manager, reason="x")
    url = reverse("program:partner_list")

    assert _names(manager_client.get(url, {"status": "suspended"})) == ["D"]
    assert _names(manager_client.get(url, {"assigned_level": AccessLevel.STANDARD})) == ["B", "C"]
    assert _names(manager_client.get(url, {"country": "GB"})) == ["C"]


@pytest.mark.django_db
def test_the_partner_list_filters_by_effective_level(manager_client, make_partner, nda, manager):
    make_partner(legal_name="Early", level=AccessLevel.EARLY)
    make_partner(legal_name="Capped by contract", level=AccessLevel.EARLY, contracts=[nda])
    JurisdictionPolicyFactory(country="CN", cap_level=AccessLevel.GENERIC)
    make_partner(legal_name="Capped by country", level=AccessLevel.EARLY, country="CN")
    LevelCapFactory(partner=make_partner(legal_name="Capped by enforcement"), cap_level=AccessLevel.STANDARD)
    services.suspend_partner(partner=make_partner(legal_name="Suspended"), actor=manager, reason="x")
    url = reverse("program:partner_list")

    assert _names(manager_client.get(url, {"effective_level": AccessLevel.EARLY})) == ["Early"]
    assert _names(manager_client.get(url, {"effective_level": AccessLevel.STANDARD})) == [
        "Capped by contract",
        "Capped by enforcement",
    ]
    assert _names(manager_client.get(url, {"effective_level": AccessLevel.GENERIC})) == ["Capped by country"]
    assert _names(manager_client.get(url, {"effective_level": AccessLevel.NONE})) == ["Suspended"]


@pytest.mark.django_db
def test_the_partner_list_shows_each_partners_effective_level(manager_client, make_partner, nda):
    make_partner(legal_name="Capped by contract", level=AccessLevel.EARLY, contracts=[nda])

    response = manager_client.get(reverse("program:partner_list"))

    assert response.context["rows"][0].effective_level == AccessLevel.STANDARD
    assert "<td>standard</td>" in response.text


@pytest.mark.django_db
def test_the_partner_list_is_paginated(manager_client, make_partner):
    for number in range(30):
        make_partner(legal_name=f"Partner {number:02d}")

    first = manager_client.get(reverse("program:partner_list"))
    second = manager_client.get(reverse("program:partner_list"), {"page": 2})

    assert len(first.context["rows"]) == 25
    assert _names(second) == [f"Partner {number:02d}" for number in range(25, 30)]
    assert "page=2" in first.text


@pytest.mark.django_db
def test_the_partner_list_runs_the_same_number_of_queries_for_3_or_25_partners(manager_client, make_partner):
    def count_queries(**filters):
        with CaptureQueriesContext(connection) as queries:
            assert manager_client.get(reverse("program:partner_list"), filters).status_code == 200
        return len(queries)

    for number in range(3):
        partner = make_partner(legal_name=f"Small {number}")
        MembershipFactory(partner=partner)
        PartnerDomainFactory(partner=partner)
    few, few_filtered = count_queries(), count_queries(effective_level=AccessLevel.EARLY)
    for number in range(22):
        partner = make_partner(legal_name=f"Big {number}")
        MembershipFactory(partner=partner)
        PartnerDomainFactory(partner=partner)

    assert count_queries() == few
    assert count_queries(effective_level=AccessLevel.EARLY) == few_filtered
    assert few <= 15, few  # includes the session, its second-factor device, the nav counts and staff roles


@pytest.mark.django_db
def test_the_partner_page_shows_members_agreements_deliveries_downloads_and_timeline(
    manager_client, manager, make_partner, member_of, advisory
):
    partner = make_partner(legal_name="Kestrel IDS Ltd", level=AccessLevel.EARLY)
    analyst = member_of(partner, user__email="analyst@kestrel.test")
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY)
    advisory_services.release_due_waves()
    advisory_services.record_access(
        access=partner_access(analyst), user=analyst, advisory=advisory, kind=AccessKind.VIEW, ip_address="192.0.2.7"
    )
    services.suspend_partner(partner=partner, actor=manager, reason="Leak under investigation")

    response = manager_client.get(reverse("program:partner_detail", args=[partner.pk]))

    assert response.status_code == 200
    text = response.text
    assert "analyst@kestrel.test" in text
    assert "Partner Program NDA v1" in text
    assert advisory.identifier in text
    assert "192.0.2.7" in text
    assert "partner.suspended" in text and "Leak under investigation" in text
    assert response.context["record"].effective_level == AccessLevel.NONE


@pytest.mark.django_db
def test_a_manager_suspends_with_an_end_time_and_reinstates_over_http(manager_client, make_partner):
    partner = make_partner()

    manager_client.post(
        reverse("program:partner_suspend", args=[partner.pk]),
        {"reason": "Review", "until": "2099-01-01 12:00", **CONFIRMED},
    )
    partner.refresh_from_db()
    assert partner.status == PartnerStatus.SUSPENDED
    assert partner.suspended_until.isoformat() == "2099-01-01T12:00:00+00:00"

    manager_client.post(reverse("program:partner_reinstate", args=[partner.pk]), {"reason": "Cleared"})
    partner.refresh_from_db()
    assert partner.status == PartnerStatus.ACTIVE


@pytest.mark.django_db
def test_a_refused_transition_over_http_answers_with_a_message_and_changes_nothing(manager_client, make_partner):
    partner = make_partner()

    response = manager_client.post(
        reverse("program:partner_reinstate", args=[partner.pk]), {"reason": "Why not"}, follow=True
    )

    assert "A active organisation cannot be reinstated" in response.text
    partner.refresh_from_db()
    assert partner.status == PartnerStatus.ACTIVE


@pytest.mark.django_db
def test_removal_over_http_needs_a_reason(manager_client, make_partner):
    partner = make_partner()

    response = manager_client.post(reverse("program:partner_remove", args=[partner.pk]), {"reason": ""}, follow=True)

    assert "A written reason is required" in response.text
    partner.refresh_from_db()
    assert partner.status == PartnerStatus.ACTIVE


@pytest.mark.django_db
def test_a_manager_invites_a_member_from_the_partner_page(manager_client, make_partner):
    partner = make_partner()
    PartnerDomainFactory(partner=partner, domain="vendor.test")

    manager_client.post(
        reverse("program:partner_invite", args=[partner.pk]), {"email": "x@vendor.test", "role": "admin"}
    )

    assert partner.invitations.get().email == "x@vendor.test"


@pytest.mark.django_db
def test_compliance_officers_see_the_partner_pages(client, compliance_officer, make_partner):
    partner = make_partner()
    client.force_login(compliance_officer)

    assert client.get(reverse("program:partner_list")).status_code == 200
    assert client.get(reverse("program:partner_detail", args=[partner.pk])).status_code == 200


@pytest.mark.django_db
def test_partners_get_404_on_the_partner_pages(client, make_partner):
    partner = make_partner()
    client.force_login(MembershipFactory(partner=partner, role="admin").user)

    assert client.get(reverse("program:partner_list")).status_code == 404
    assert client.get(reverse("program:partner_detail", args=[partner.pk])).status_code == 404
    assert (
        client.post(reverse("program:partner_suspend", args=[partner.pk]), {"reason": "x", **CONFIRMED}).status_code
        == 404
    )
    partner.refresh_from_db()
    assert partner.status == PartnerStatus.ACTIVE


@pytest.mark.django_db
def test_a_manager_sets_seats_and_email_domains(manager_client, make_partner):
    partner = make_partner()
    PartnerDomainFactory(partner=partner, domain="old.test")

    manager_client.post(
        reverse("program:partner_team_settings", args=[partner.pk]),
        {"seat_limit": 4, "email_domains": "New.test, other.test"},
    )

    partner.refresh_from_db()
    assert partner.seat_limit == 4
    assert sorted(partner.domains.values_list("domain", flat=True)) == ["new.test", "other.test"]


@pytest.mark.django_db
def test_the_seat_limit_cannot_go_below_the_seats_taken(manager_client, make_partner):
    partner = make_partner()
    PartnerDomainFactory(partner=partner, domain="vendor.test")
    MembershipFactory(partner=partner)
    MembershipFactory(partner=partner)

    response = manager_client.post(
        reverse("program:partner_team_settings", args=[partner.pk]),
        {"seat_limit": 1, "email_domains": "vendor.test"},
        follow=True,
    )

    assert "2 seats are taken" in response.text
    partner.refresh_from_db()
    assert partner.seat_limit == 10
