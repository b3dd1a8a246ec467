"""The partner dashboard: what is new since the last visit, what to sign, unread notices, the team, API tokens."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from advisories import services
from core.levels import AccessLevel
from partners import services as partner_services
from tests.factories import AdvisoryFactory, ContractVersionFactory, WaveFactory


def _release(advisory):
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=timezone.now() - timedelta(seconds=1))
    services.release_due_waves()


@pytest.fixture
def partner(make_partner):
    return make_partner(legal_name="Northwind Security")


def _board(client):
    response = client.get(reverse("advisories:dashboard"))
    assert response.status_code == 200
    return response.context["board"]


@pytest.mark.django_db
def test_a_first_visit_shows_the_latest_advisories(client, partner, member_of, advisory):
    _release(advisory)
    client.force_login(member_of(partner))

    board = _board(client)

    assert board.since is None
    assert [a.identifier for a in board.new_advisories] == [advisory.identifier]


@pytest.mark.django_db
def test_a_later_session_shows_only_what_was_delivered_since_the_last_visit(client, partner, member_of, advisory):
    member = member_of(partner)
    _release(advisory)
    client.force_login(member)
    _board(client)
    later = AdvisoryFactory()
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        _release(later)
        client.logout()
        client.force_login(member)

        board = _board(client)

    assert [a.identifier for a in board.new_advisories] == [later.identifier]
    assert board.new_advisory_count == 1


@pytest.mark.django_db
def test_reloading_the_dashboard_keeps_what_was_new_when_the_session_began(client, partner, member_of, advisory):
    member = member_of(partner)
    client.force_login(member)
    _board(client)
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        client.logout()
        client.force_login(member)
        _release(advisory)
        _board(client)

        board = _board(client)

    assert [a.identifier for a in board.new_advisories] == [advisory.identifier]


@pytest.mark.django_db
def test_a_missing_required_contract_is_listed_to_sign(client, make_partner, member_of, nda, poc_addendum):
    partner = make_partner(contracts=[nda])
    client.force_login(member_of(partner))

    board = _board(client)

    assert [standing.version for standing in board.agreements_to_sign] == [poc_addendum]


@pytest.mark.django_db
def test_unread_notices_and_the_active_team_are_shown(
    client, partner, member_of, advisory, django_capture_on_commit_callbacks
):
    member = member_of(partner)
    colleague = member_of(partner)
    with django_capture_on_commit_callbacks(execute=True):
        _release(advisory)
    client.force_login(member)

    board = _board(client)

    assert board.unread_notice_count == 1
    assert {m.user for m in board.team} == {member, colleague}


@pytest.mark.django_db
def test_only_a_partner_admin_sees_the_api_tokens(client, partner, member_of):
    client.force_login(member_of(partner, role="analyst"))
    assert _board(client).api_tokens is None

    client.force_login(member_of(partner, role="admin"))
    assert _board(client).api_tokens == []


@pytest.mark.django_db
def test_a_suspended_organisation_sees_its_dashboard_without_advisories(client, partner, member_of, advisory, manager):
    member = member_of(partner)
    _release(advisory)
    partner_services.suspend_partner(partner=partner, actor=manager, reason="Leak under investigation")
    client.force_login(member)

    board = _board(client)

    assert board.new_advisories == []
    assert b"no access to advisories" in client.get(reverse("advisories:dashboard")).content


@pytest.mark.django_db
def test_home_sends_a_partner_user_to_the_dashboard(client, partner, member_of):
    client.force_login(member_of(partner))

    assert client.get(reverse("home")).url == reverse("advisories:dashboard")


@pytest.mark.django_db
def test_a_contract_version_not_yet_in_force_is_not_asked_for(client, partner, member_of):
    ContractVersionFactory(
        contract_key="future", required_from_level=AccessLevel.GENERIC, effective_at=timezone.now() + timedelta(days=3)
    )
    client.force_login(member_of(partner))

    assert _board(client).agreements_to_sign == []
