"""The partner dashboard: what is new since the last visit, what to sign, unread notices, the team, API tokens."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from advisories import services
from core.levels import AccessLevel
from partners import services as partner_services
from tests.factories import (
    AdvisoryFactory,
    AgreementFactory,
    ContractVersionFactory,
    InvitationFactory,
    LevelCapFactory,
    PartnerDomainFactory,
    WaveFactory,
)


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


# Organisations without access: the landing page says what to do next -----------------------------------------------


def _two_sessions(client, member):
    """Two logins of `member`, each opening the landing page: the second compares with the first visit."""
    pages = []
    for _ in range(2):
        client.force_login(member)
        pages.append(client.get(reverse("advisories:dashboard")))
        client.logout()
    return pages


@pytest.mark.django_db
@pytest.mark.parametrize("standing", ["expired", "suspended", "capped_to_none", "unsigned"])
def test_an_organisation_without_access_opens_its_landing_page_at_every_login(
    standing, client, make_partner, member_of, nda, poc_addendum, manager, advisory
):
    partner = make_partner(contracts=[poc_addendum] if standing in ("expired", "unsigned") else None)
    if standing == "expired":
        AgreementFactory(
            partner=partner,
            contract_version=nda,
            signed_at=timezone.now() - timedelta(days=400),
            valid_until=timezone.now() - timedelta(days=1),
        )
    _release(advisory)
    if standing == "suspended":
        partner_services.suspend_partner(partner=partner, actor=manager, reason="Leak under investigation")
    if standing == "capped_to_none":
        LevelCapFactory(partner=partner, cap_level=AccessLevel.NONE)

    first, second = _two_sessions(client, member_of(partner))

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.context["board"].new_advisories == []


@pytest.mark.django_db
def test_an_admin_who_has_not_signed_is_told_to_sign_with_a_link_and_what_the_organisation_will_receive(
    client, make_partner, member_of, nda
):
    partner = make_partner(level=AccessLevel.STANDARD, contracts=[], legal_name="Fresh Start Ltd")
    client.force_login(member_of(partner, role="admin"))

    page = client.get(reverse("advisories:dashboard"))

    step = page.context["board"].next_step
    assert (step.kind, step.level_once_signed) == ("sign", AccessLevel.STANDARD)
    assert "What to do next" in page.text
    assert f'class="button" href="{reverse("compliance:partner_sign", args=[nda.pk])}"' in page.text
    assert "receives at the <strong>standard</strong> level" in page.text
    assert "No access to advisories" not in page.text


@pytest.mark.django_db
def test_an_analyst_of_an_organisation_that_has_not_signed_is_told_to_ask_the_admins(
    client, make_partner, member_of, nda
):
    partner = make_partner(level=AccessLevel.EARLY, contracts=[])
    admin = member_of(partner, role="admin", user__first_name="Ada", user__last_name="Admin")
    client.force_login(member_of(partner, role="analyst"))

    page = client.get(reverse("advisories:dashboard"))

    assert page.context["board"].next_step.kind == "ask_admin"
    assert "Ask your organisation's partner admin" in page.text
    assert admin.get_full_name() in page.text
    assert f'class="button" href="{reverse("compliance:partner_sign", args=[nda.pk])}"' not in page.text
    assert "receives at the <strong>early</strong> level" in page.text


@pytest.mark.django_db
def test_an_organisation_with_its_full_level_has_no_next_step(client, partner, member_of):
    client.force_login(member_of(partner, role="admin"))

    page = client.get(reverse("advisories:dashboard"))

    assert page.context["board"].next_step is None
    assert "What to do next" not in page.text


@pytest.mark.django_db
def test_the_advisory_list_sends_an_organisation_yet_to_sign_to_its_landing_page_not_a_refusal(
    client, make_partner, member_of
):
    partner = make_partner(contracts=[])
    client.force_login(member_of(partner, role="admin"))

    response = client.get(reverse("advisories:list"))

    assert response.status_code == 302
    assert response.url == reverse("advisories:dashboard")


@pytest.mark.django_db
def test_a_suspended_organisation_is_still_refused_the_advisory_list(client, partner, member_of, manager):
    partner_services.suspend_partner(partner=partner, actor=manager, reason="Leak under investigation")
    client.force_login(member_of(partner))

    assert client.get(reverse("advisories:list")).status_code == 403


@pytest.mark.django_db
def test_a_new_partner_admin_lands_on_the_next_step_after_enrolling_the_second_factor(client, make_partner, nda):
    import re

    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from partners import tokens

    partner = make_partner(level=AccessLevel.STANDARD, contracts=[], legal_name="First Visit Oy")
    invitation = InvitationFactory(partner=partner, email="first@example.test", role="admin")
    PartnerDomainFactory(partner=partner, domain="example.test")
    accept = reverse("partners:accept_invitation", args=[tokens.invitation_token(invitation)])
    password = "kestrel-harbour-2026!"

    response = client.post(accept, {"password": password, "password_again": password}, follow=True)
    setup = response.redirect_chain[-1][0]
    assert setup == f"{reverse('mfa_setup')}?next={reverse('advisories:dashboard')}"
    device = TOTPDevice.objects.get(user__email="first@example.test", confirmed=False)
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    codes_page = client.post(reverse("mfa_setup"), {"token": code, "next": reverse("advisories:dashboard")})
    continue_to = re.search(r'<a class="button" href="([^"]+)">Continue</a>', codes_page.text).group(1)

    landing = client.get(continue_to)

    assert landing.status_code == 200
    assert "What to do next" in landing.text
    assert reverse("compliance:partner_sign", args=[nda.pk]) in landing.text
