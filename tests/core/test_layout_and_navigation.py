"""The shared layout: navigation by role (only pages the person may open, by the rules those pages apply), the
Django admin out of the main navigation, the favicon, and date-time fields typed unambiguously in UTC."""

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from advisories import services
from advisories.forms import ReleasePlanForm
from compliance.models import Agreement
from core.levels import AccessLevel
from partners.models import MemberRole
from tests.factories import (
    AdvisoryFactory,
    ComplianceOfficerFactory,
    HandlingAcknowledgementFactory,
    MembershipFactory,
    ProgramManagerFactory,
    WaveFactory,
)

pytestmark = pytest.mark.django_db


def _header_links(response) -> list[str]:
    header = re.search(r"<header.*?</header>", response.text, re.DOTALL).group(0)
    return re.findall(r'href="([^"]+)"', header)


def _subnav_links(response) -> list[str]:
    nav = re.search(r'<nav class="program-nav" aria-label="Compliance">.*?</nav>', response.text, re.DOTALL)
    return re.findall(r'href="([^"]+)"', nav.group(0)) if nav else []


def test_navigation_leaves_out_the_officer_only_pages_when_the_person_is_a_program_manager(client):
    client.force_login(ProgramManagerFactory())

    response = client.get(reverse("compliance:violation_list"))

    links = _header_links(response) + _subnav_links(response)
    assert reverse("compliance:violation_list") in links
    for officer_only in ("compliance:appeal_queue", "compliance:review_list", "compliance:policy_list", "leaks:list"):
        assert reverse(officer_only) not in links
    for link in links:
        if link.startswith("/program/"):
            assert client.get(link).status_code == 200, link


def test_navigation_offers_the_compliance_pages_when_the_person_is_a_compliance_officer(client):
    client.force_login(ComplianceOfficerFactory())

    response = client.get(reverse("compliance:violation_list"))

    links = _header_links(response) + _subnav_links(response)
    for page in ("compliance:appeal_queue", "compliance:review_list", "compliance:policy_list", "leaks:list"):
        assert reverse(page) in links
    assert reverse("program_advisories:list") not in links  # program managers' pages
    for link in links:
        if link.startswith("/program/"):
            assert client.get(link).status_code == 200, link


def test_the_django_admin_is_linked_from_the_footer_only_when_the_person_may_open_it(client, make_partner, member_of):
    client.force_login(ProgramManagerFactory())
    staff_page = client.get(reverse("program:dashboard"))
    assert reverse("admin:index") not in _header_links(staff_page)
    assert f'href="{reverse("admin:index")}"' in staff_page.text
    assert client.get(reverse("admin:index")).status_code == 200

    client.force_login(member_of(make_partner(), role=MemberRole.ADMIN))
    partner_page = client.get(reverse("advisories:notices"))
    assert reverse("admin:index") not in partner_page.text


def test_partner_navigation_offers_the_admin_pages_only_when_the_member_is_an_admin(client, make_partner, member_of):
    partner = make_partner()
    admin_pages = [reverse(name) for name in ("partners:team", "advisories:api_tokens", "compliance:partner_appeals")]

    client.force_login(member_of(partner, role=MemberRole.ANALYST))
    analyst_links = _header_links(client.get(reverse("advisories:notices")))
    client.force_login(member_of(partner, role=MemberRole.ADMIN))
    admin_links = _header_links(client.get(reverse("advisories:notices")))

    assert not set(admin_pages) & set(analyst_links)
    assert set(admin_pages) <= set(admin_links)
    for link in admin_pages:
        assert client.get(link).status_code == 200


def test_partner_navigation_leaves_out_the_advisories_when_the_organisation_has_no_access(
    client, make_partner, member_of
):
    without_agreement = make_partner(contracts=[])
    client.force_login(member_of(without_agreement, role=MemberRole.ADMIN))

    links = _header_links(client.get(reverse("compliance:partner_agreements")))

    assert reverse("advisories:list") not in links
    assert reverse("compliance:partner_agreements") in links
    assert not Agreement.objects.filter(partner=without_agreement).exists()


def test_the_favicon_is_served_when_a_browser_asks_for_it(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")


def test_a_utc_field_renders_as_iso_text_with_its_zone_in_the_label_when_shown():
    form = ReleasePlanForm(initial={"public_release_at": datetime(2026, 12, 2, 13, 7, tzinfo=UTC)})

    html = str(form["public_release_at"])

    assert 'type="text"' in html and 'value="2026-12-02 13:07"' in html
    assert 'placeholder="YYYY-MM-DD HH:MM"' in html and "data-utc-input" in html
    assert "(UTC)" in form["public_release_at"].label
    assert "24-hour" in form["public_release_at"].help_text


@pytest.mark.parametrize("typed", ["2026-12-02 13:07", "2026-12-02T13:07"])
def test_a_utc_field_reads_the_time_as_utc_when_typed_in_either_iso_form(typed):
    form = ReleasePlanForm(data={"public_release_at": typed})

    assert form.is_valid(), form.errors
    assert form.cleaned_data["public_release_at"] == datetime(2026, 12, 2, 13, 7, tzinfo=UTC)


def test_times_are_shown_as_iso_utc_marked_for_the_local_time_script_when_a_page_shows_them(client, make_partner):
    partner = make_partner(level=AccessLevel.EARLY)
    member = MembershipFactory(partner=partner).user
    advisory = AdvisoryFactory(public_release_at=datetime(2026, 12, 2, 13, 7, tzinfo=UTC))
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY)
    services.release_due_waves()
    HandlingAcknowledgementFactory(advisory=advisory, user=member, partner=partner)
    client.force_login(member)

    response = client.get(reverse("advisories:detail", args=[advisory.identifier]))

    assert '<time datetime="2026-12-02T13:07:00Z" data-local-time>2026-12-02 13:07 UTC</time>' in response.text


def test_the_application_form_marks_every_required_answer_and_lists_its_problems_at_the_top(client):
    response = client.post(reverse("partners:apply"), {"legal_name": "Osprey"})

    assert response.status_code in (200, 400)
    marked = re.findall(r'<label for="id_(\w+)">[^<]*<span class="required-mark"', response.text)
    assert {"legal_name", "country", "website", "applicant_email"} <= set(marked)
    assert "trading_name" not in marked
    summary = re.search(r'<div class="error-summary".*?</div>', response.text, re.DOTALL).group(0)
    assert 'href="#id_country"' in summary
    assert "problems to fix" in summary
