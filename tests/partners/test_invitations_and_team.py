"""Invitations (signed, single use, expiring, on the registered domains) and the partner admins' team pages."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from partners import services, tokens
from partners.models import Invitation, MemberRole, PartnerMembership
from tests.confirmation import CONFIRMED
from tests.factories import InvitationFactory, MembershipFactory, UserFactory

PASSWORD = "harbour-lights-2026!"


def _accept_url(invitation):
    return reverse("partners:accept_invitation", args=[tokens.invitation_token(invitation)])


def _accept(client, invitation, password=PASSWORD):
    return client.post(_accept_url(invitation), {"password": password, "password_again": password})


# Inviting ------------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_partner_admin_invites_a_colleague_on_a_registered_domain(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invite_member(
            partner=team.partner, actor=team.admin, email="New@Kestrel.test", role=MemberRole.ANALYST
        )

    assert invitation.email == "new@kestrel.test"
    assert invitation.expires_at > timezone.now()
    assert mail.outbox[0].to == ["new@kestrel.test"]
    assert "/invitations/" in mail.outbox[0].body
    assert AuditEvent.objects.filter(action="partner.member_invited").exists()


@pytest.mark.django_db
def test_an_invitation_to_a_foreign_domain_is_refused(team):
    with pytest.raises(ValidationError, match="registered email domains"):
        services.invite_member(partner=team.partner, actor=team.admin, email="x@gmail.test", role="analyst")

    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_an_analyst_cannot_invite(team):
    with pytest.raises(PermissionDenied, match="partner admins manage its team"):
        services.invite_member(partner=team.partner, actor=team.analyst, email="x@kestrel.test", role="analyst")


@pytest.mark.django_db
def test_an_admin_of_another_organisation_cannot_invite(team, make_partner):
    outsider = MembershipFactory(partner=make_partner(), role="admin").user

    with pytest.raises(PermissionDenied, match="partner admins manage its team"):
        services.invite_member(partner=team.partner, actor=outsider, email="x@kestrel.test", role="analyst")


@pytest.mark.django_db
def test_the_seat_limit_counts_members_and_pending_invitations(team):
    team.partner.seat_limit = 3
    team.partner.save()
    services.invite_member(partner=team.partner, actor=team.admin, email="third@kestrel.test", role="analyst")

    with pytest.raises(ValidationError, match="all of its 3 seats"):
        services.invite_member(partner=team.partner, actor=team.admin, email="fourth@kestrel.test", role="analyst")


@pytest.mark.django_db
def test_a_second_pending_invitation_for_one_address_is_refused(team):
    services.invite_member(partner=team.partner, actor=team.admin, email="x@kestrel.test", role="analyst")

    with pytest.raises(ValidationError, match="pending invitation"):
        services.invite_member(partner=team.partner, actor=team.admin, email="x@kestrel.test", role="admin")


@pytest.mark.django_db
def test_a_member_of_another_organisation_cannot_be_invited(team, make_partner):
    MembershipFactory(partner=make_partner(), user=UserFactory(email="busy@kestrel.test"))

    with pytest.raises(ValidationError, match="already belongs"):
        services.invite_member(partner=team.partner, actor=team.admin, email="busy@kestrel.test", role="analyst")


# Accepting -----------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_accepting_creates_the_account_and_membership_and_logs_in(client, team):
    invitation = InvitationFactory(partner=team.partner, email="new@kestrel.test")

    response = _accept(client, invitation)

    assert response.status_code == 302
    assert response.url == reverse("advisories:dashboard")
    user = get_user_model().objects.get(email="new@kestrel.test")
    assert user.check_password(PASSWORD)
    assert user.membership.partner == team.partner
    assert int(client.session["_auth_user_id"]) == user.pk


@pytest.mark.django_db
def test_an_invitation_cannot_be_used_twice(client, team):
    invitation = InvitationFactory(partner=team.partner, email="new@kestrel.test")
    _accept(client, invitation)

    response = _accept(client.__class__(), invitation, password="another-password-2026!")

    assert response.status_code == 400
    assert "already been used" in response.text
    assert get_user_model().objects.get(email="new@kestrel.test").check_password(PASSWORD)


@pytest.mark.django_db
def test_an_invitation_cannot_be_used_after_it_expires(client, team):
    invitation = InvitationFactory(partner=team.partner, email="new@kestrel.test")

    with time_machine.travel(invitation.expires_at + timedelta(seconds=1)):
        response = _accept(client, invitation)

    assert response.status_code == 400
    assert "expired" in response.text
    assert not get_user_model().objects.filter(email="new@kestrel.test").exists()


@pytest.mark.django_db
def test_an_invitation_link_whose_signature_is_too_old_is_refused_even_if_the_row_says_otherwise(
    client, team, settings
):
    invitation = InvitationFactory(
        partner=team.partner, email="new@kestrel.test", expires_at=timezone.now() + timedelta(days=90)
    )
    url = _accept_url(invitation)

    with time_machine.travel(timezone.now() + timedelta(seconds=settings.INVITATION_MAX_AGE + 60)):
        response = client.post(url, {"password": PASSWORD, "password_again": PASSWORD})

    assert response.status_code == 400
    assert not PartnerMembership.objects.filter(user__email="new@kestrel.test").exists()


@pytest.mark.django_db
def test_an_invitation_for_a_foreign_domain_cannot_be_used(client, team):
    # E.g. the organisation's domain was unregistered after the invitation was sent.
    invitation = InvitationFactory(partner=team.partner, email="someone@elsewhere.test")

    response = _accept(client, invitation)

    assert response.status_code == 400
    assert "registered email domains" in response.text
    assert not get_user_model().objects.filter(email="someone@elsewhere.test").exists()


@pytest.mark.django_db
def test_a_tampered_invitation_link_is_refused(client, team):
    invitation = InvitationFactory(partner=team.partner, email="new@kestrel.test")
    token = tokens.invitation_token(invitation)

    response = client.get(reverse("partners:accept_invitation", args=[token[:-3] + "abc"]))

    assert response.status_code == 400
    assert "invalid" in response.text


@pytest.mark.django_db
def test_a_link_with_the_wrong_nonce_is_refused(client, team):
    invitation = InvitationFactory(partner=team.partner, email="new@kestrel.test")
    forged = Invitation(pk=invitation.pk, nonce="guessed")

    response = client.get(reverse("partners:accept_invitation", args=[tokens.invitation_token(forged)]))

    assert response.status_code == 400


@pytest.mark.django_db
def test_a_withdrawn_invitation_cannot_be_used(client, team):
    invitation = InvitationFactory(partner=team.partner, email="new@kestrel.test")
    services.revoke_invitation(invitation=invitation, actor=team.admin)

    response = _accept(client, invitation)

    assert response.status_code == 400
    assert "withdrawn" in response.text


@pytest.mark.django_db
def test_a_weak_password_is_refused_and_the_invitation_stays_usable(client, team):
    invitation = InvitationFactory(partner=team.partner, email="new@kestrel.test")

    response = _accept(client, invitation, password="short")

    assert response.status_code == 400
    assert "password" in response.context["form"].errors
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


@pytest.mark.django_db
def test_an_invitation_to_a_suspended_organisation_cannot_be_used(client, team, manager):
    invitation = InvitationFactory(partner=team.partner, email="new@kestrel.test")
    services.suspend_partner(partner=team.partner, actor=manager, reason="Investigation")

    response = _accept(client, invitation)

    assert response.status_code == 400
    assert "suspended organisation cannot gain members" in response.text


@pytest.mark.django_db
def test_removal_withdraws_pending_invitations(team, manager):
    invitation = InvitationFactory(partner=team.partner, email="new@kestrel.test")

    services.remove_partner(partner=team.partner, actor=manager, reason="Leak")

    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


# Team pages -----------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_team_page_lists_members_and_invites_for_an_admin(client, team, django_capture_on_commit_callbacks):
    client.force_login(team.admin)
    assert "analyst@kestrel.test" in client.get(reverse("partners:team")).text

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("partners:team"), {"email": "new@kestrel.test", "role": "analyst"})

    assert response.status_code == 302
    assert Invitation.objects.get().email == "new@kestrel.test"
    assert "new@kestrel.test" in client.get(reverse("partners:team")).text


@pytest.mark.django_db
def test_the_team_page_shows_a_foreign_domain_as_a_field_error(client, team):
    client.force_login(team.admin)

    response = client.post(reverse("partners:team"), {"email": "x@gmail.test", "role": "analyst"})

    assert response.status_code == 400
    assert "registered email domains" in response.context["form"].errors["email"][0]


@pytest.mark.django_db
def test_analysts_are_refused_the_team_page(client, team):
    client.force_login(team.analyst)

    response = client.get(reverse("partners:team"))

    assert response.status_code == 403
    assert "partner admins" in response.text


@pytest.mark.django_db
def test_analysts_cannot_deactivate_colleagues(client, team):
    client.force_login(team.analyst)
    admin_membership = team.admin.membership

    response = client.post(reverse("partners:deactivate_member", args=[admin_membership.pk]), CONFIRMED)

    assert response.status_code == 403
    admin_membership.refresh_from_db()
    assert admin_membership.is_active


@pytest.mark.django_db
def test_staff_do_not_see_the_team_page(client, manager):
    client.force_login(manager)

    assert client.get(reverse("partners:team")).status_code == 404


@pytest.mark.django_db
def test_an_admin_deactivates_a_colleague_who_is_refused_at_once(client, team, advisory):
    colleague = client.__class__()
    colleague.force_login(team.analyst)
    assert colleague.get(reverse("advisories:list")).status_code == 200
    client.force_login(team.admin)

    client.post(reverse("partners:deactivate_member", args=[team.analyst.membership.pk]), CONFIRMED)

    assert not PartnerMembership.objects.get(user=team.analyst).is_active
    assert colleague.get(reverse("advisories:list")).status_code == 404
    assert AuditEvent.objects.filter(action="partner.member_deactivated").exists()


@pytest.mark.django_db
def test_an_admin_cannot_deactivate_themselves(team):
    with pytest.raises(ValidationError, match="yourself"):
        services.deactivate_member(membership=team.admin.membership, actor=team.admin)


@pytest.mark.django_db
def test_an_admin_cannot_deactivate_members_of_another_organisation(client, team, make_partner):
    stranger = MembershipFactory(partner=make_partner())
    client.force_login(team.admin)

    response = client.post(reverse("partners:deactivate_member", args=[stranger.pk]), CONFIRMED)

    assert response.status_code == 404
    stranger.refresh_from_db()
    assert stranger.is_active


@pytest.mark.django_db
def test_a_deactivated_colleague_can_be_invited_back(client, team):
    services.deactivate_member(membership=team.analyst.membership, actor=team.admin)
    invitation = services.invite_member(partner=team.partner, actor=team.admin, email=team.analyst.email, role="admin")

    _accept(client, invitation)

    membership = PartnerMembership.objects.get(user=team.analyst)
    assert (membership.is_active, membership.role) == (True, "admin")


@pytest.mark.django_db
def test_the_team_page_runs_the_same_number_of_queries_for_2_or_9_people(client, team):
    client.force_login(team.admin)

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("partners:team")).status_code == 200
        return len(queries)

    few = count_queries()
    for number in range(4):
        MembershipFactory(partner=team.partner, user=UserFactory(email=f"m{number}@kestrel.test"))
        InvitationFactory(partner=team.partner, email=f"i{number}@kestrel.test", invited_by=team.admin)

    assert count_queries() == few


@pytest.mark.django_db
def test_demo_partner_admins_can_invite_colleagues_on_their_domain():
    call_command("seed_demo", verbosity=0)
    admin = get_user_model().objects.get(email="admin@kestrel.test")

    invitation = services.invite_member(
        partner=admin.membership.partner, actor=admin, email="colleague@kestrel.test", role="analyst"
    )

    assert invitation.partner.legal_name.startswith("Kestrel")


@pytest.mark.django_db
def test_an_address_whose_invitation_expired_can_be_invited_again_and_the_old_link_stays_dead(client, team):
    expired = InvitationFactory(
        partner=team.partner, email="new@kestrel.test", expires_at=timezone.now() - timedelta(minutes=1)
    )

    fresh = services.invite_member(partner=team.partner, actor=team.admin, email="new@kestrel.test", role="analyst")

    expired.refresh_from_db()
    assert expired.revoked_at == expired.expires_at  # closed at its expiry, not later
    assert fresh.state(timezone.now()) == "pending"
    assert _accept(client, expired).status_code == 400
    assert not PartnerMembership.objects.filter(user__email="new@kestrel.test").exists()


@pytest.mark.django_db
def test_the_database_refuses_a_second_open_invitation_of_one_address(team):
    InvitationFactory(partner=team.partner, email="new@kestrel.test")

    with pytest.raises(IntegrityError, match="one_open_invitation_per_address|partners_invitation.partner_id"):
        InvitationFactory(partner=team.partner, email="new@kestrel.test")
