"""API tokens: created by partner admins in the portal and shown once, stored hashed, refused when revoked,
expired, or when the organisation or the creator is gone; every use audited."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.levels import AccessLevel
from core.models import AuditEvent
from partners import services as partner_services
from partners.models import ApiToken, MemberRole, PartnerMembership
from tests.api.conftest import release
from tests.confirmation import CONFIRMED
from tests.factories import UserFactory

LIST = "/api/v1/advisories/"


@pytest.fixture
def admin(early_partner, member_of):
    return member_of(early_partner, role=MemberRole.ADMIN)


# Management in the portal -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_partner_admin_creates_a_token_whose_secret_is_shown_once_and_stored_only_hashed(client, admin):
    client.force_login(admin)

    response = client.post(reverse("advisories:api_tokens"), {"name": "EDR pipeline", "expires_in_days": 90})

    secret = response.context["created"]["secret"]
    token = ApiToken.objects.get()
    assert secret in response.text
    assert response["Cache-Control"] == "private, no-store"
    assert token.name == "EDR pipeline"
    assert token.created_by == admin
    assert secret not in {token.prefix, token.secret_sha256}
    assert token.secret_sha256 == __import__("hashlib").sha256(secret.encode()).hexdigest()
    assert secret not in client.get(reverse("advisories:api_tokens")).text
    assert token.prefix in client.get(reverse("advisories:api_tokens")).text


@pytest.mark.django_db
def test_new_token_works_against_the_api_right_away(client, admin, advisory, api_client_for):
    release(advisory, AccessLevel.EARLY)
    client.force_login(admin)
    secret = client.post(reverse("advisories:api_tokens"), {"name": "x", "expires_in_days": 30}).context["created"][
        "secret"
    ]

    response = api_client_for(secret).get(LIST)

    assert [a["identifier"] for a in response.json()["results"]] == [advisory.identifier]


@pytest.mark.django_db
def test_token_creation_and_revocation_are_audited(admin, make_token, early_partner):
    token, _ = make_token(early_partner, admin=admin)
    partner_services.revoke_api_token(actor=admin, token=token)

    assert list(AuditEvent.objects.filter(target_id=str(token.pk)).values_list("action", flat=True)) == [
        "api_token.created",
        "api_token.revoked",
    ]


@pytest.mark.django_db
def test_analyst_cannot_manage_tokens(client, early_partner, member_of):
    client.force_login(member_of(early_partner, role=MemberRole.ANALYST))

    assert client.get(reverse("advisories:api_tokens")).status_code == 403
    assert client.post(reverse("advisories:api_tokens"), {"name": "x", "expires_in_days": 30}).status_code == 403
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_staff_never_see_the_token_page(client, manager):
    client.force_login(manager)

    assert client.get(reverse("advisories:api_tokens")).status_code == 404


@pytest.mark.django_db
def test_an_admin_cannot_revoke_another_organisations_token(client, make_partner, member_of, make_token):
    other = make_partner(legal_name="Other Ltd")
    token, _ = make_token(other)
    client.force_login(member_of(make_partner(legal_name="Mine Ltd"), role=MemberRole.ADMIN))

    response = client.post(reverse("advisories:revoke_api_token", args=[token.pk]), CONFIRMED)

    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.django_db
def test_revoking_in_the_portal_refuses_the_token_at_once(client, admin, make_token, early_partner, api_client_for):
    token, secret = make_token(early_partner, admin=admin)
    api = api_client_for(secret)
    assert api.get(LIST).status_code == 200
    client.force_login(admin)

    client.post(reverse("advisories:revoke_api_token", args=[token.pk]), CONFIRMED)

    assert api.get(LIST).status_code == 401


@pytest.mark.django_db
def test_service_refuses_an_expiry_beyond_one_year_or_in_the_past(admin):
    with pytest.raises(ValidationError, match="A token may live for at most one year"):
        partner_services.create_api_token(actor=admin, name="x", expires_at=timezone.now() + timedelta(days=400))
    with pytest.raises(ValidationError, match="The expiry must be in the future"):
        partner_services.create_api_token(actor=admin, name="x", expires_at=timezone.now() - timedelta(seconds=1))


@pytest.mark.django_db
def test_service_refuses_tokens_for_a_suspended_organisation(admin, early_partner, manager):
    partner_services.suspend_partner(partner=early_partner, actor=manager, reason="Review")

    with pytest.raises(ValidationError, match="A suspended or removed organisation cannot create API tokens"):
        partner_services.create_api_token(actor=admin, name="x", expires_at=timezone.now() + timedelta(days=1))


@pytest.mark.django_db
def test_service_refuses_staff_and_analysts(manager, early_partner, member_of):
    for actor in (manager, member_of(early_partner, role=MemberRole.ANALYST)):
        with pytest.raises(PermissionDenied, match="partner admins may manage its API tokens"):
            partner_services.create_api_token(actor=actor, name="x", expires_at=timezone.now() + timedelta(days=1))


# Refusal -------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_request_without_a_token_is_refused_with_401():
    response = APIClient().get(LIST)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["Bearer not-a-token", "Token", "Bearer a b", "Basic dXNlcjpwYXNz"])
def test_unknown_or_malformed_credentials_are_refused(header, early_token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    assert client.get(LIST).status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize("keyword", ["Token", "Bearer", "bearer"])
def test_token_is_accepted_with_either_keyword(keyword, early_token, api_client_for):
    assert api_client_for(early_token[1], keyword=keyword).get(LIST).status_code == 200


@pytest.mark.django_db
def test_revoked_token_is_refused(early_token, api_client_for, early_partner):
    token, secret = early_token
    partner_services.revoke_api_token(actor=token.created_by, token=token)

    response = api_client_for(secret).get(LIST)

    assert response.status_code == 401
    assert response.json() == {"detail": "This token is revoked, expired or no longer valid."}


@pytest.mark.django_db
def test_token_is_refused_from_the_second_it_expires(make_token, early_partner, api_client_for):
    token, secret = make_token(early_partner, lifetime=timedelta(days=30))
    api = api_client_for(secret)

    with time_machine.travel(token.expires_at - timedelta(seconds=1), tick=False):
        assert api.get(LIST).status_code == 200
    with time_machine.travel(token.expires_at, tick=False):
        assert api.get(LIST).status_code == 401


@pytest.mark.django_db
def test_token_dies_when_its_creator_leaves_the_organisation(early_token, api_client_for):
    token, secret = early_token
    PartnerMembership.objects.filter(user=token.created_by).update(is_active=False)

    assert api_client_for(secret).get(LIST).status_code == 401


@pytest.mark.django_db
def test_token_dies_when_its_creator_account_is_deactivated(early_token, api_client_for):
    token, secret = early_token
    type(token.created_by).objects.filter(pk=token.created_by_id).update(is_active=False)

    assert api_client_for(secret).get(LIST).status_code == 401


@pytest.mark.django_db
def test_removal_revokes_the_organisations_tokens_and_refuses_them(early_token, api_client_for, early_partner, manager):
    token, secret = early_token

    partner_services.remove_partner(partner=early_partner, actor=manager, reason="Contract breach")

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api_client_for(secret).get(LIST).status_code == 401


@pytest.mark.django_db
def test_token_cannot_write(early_api):
    assert early_api.post(LIST, {}, format="json").status_code in (403, 405)
    assert early_api.delete(LIST).status_code in (403, 405)


# Audit and last use ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_request_with_a_token_is_one_audit_event_with_its_outcome(early_api, early_token, advisory):
    release(advisory, AccessLevel.EARLY)
    before = AuditEvent.objects.count()

    early_api.get(LIST, REMOTE_ADDR="203.0.113.9")
    early_api.get(reverse("api:advisory", args=["FWN-1999-0001"]))

    events = list(AuditEvent.objects.order_by("id")[before:])
    assert [e.action for e in events] == ["api_token.used", "api_token.used"]
    assert [e.details["status"] for e in events] == [200, 404]
    assert events[0].details["path"] == LIST
    assert events[0].ip_address == "203.0.113.9"
    assert events[0].target_id == str(early_token[0].pk)
    assert events[0].actor == early_token[0].created_by


@pytest.mark.django_db
def test_a_refused_known_token_is_audited_and_an_unknown_one_is_not(early_token, api_client_for):
    token, secret = early_token
    partner_services.revoke_api_token(actor=token.created_by, token=token)
    before = AuditEvent.objects.count()

    api_client_for(secret).get(LIST)
    api_client_for("fwn_00000000_guess").get(LIST)

    events = list(AuditEvent.objects.order_by("id")[before:])
    assert [(e.action, e.details["refused"]) for e in events] == [("api_token.refused", "revoked")]


@pytest.mark.django_db
def test_last_used_time_is_written_at_most_once_a_minute(early_token, api_client_for):
    token, secret = early_token
    api = api_client_for(secret)
    start = timezone.now()

    with time_machine.travel(start, tick=False):
        api.get(LIST)
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        api.get(LIST)
    token.refresh_from_db()
    assert token.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        api.get(LIST)
    token.refresh_from_db()
    assert token.last_used_at == start + timedelta(seconds=61)


@pytest.mark.django_db
def test_token_page_shows_who_created_each_token_and_when_it_was_last_used(client, admin, make_token, early_partner):
    make_token(early_partner, admin=admin, name="SIEM feed")
    client.force_login(UserFactory(email="x@example.test"))
    assert client.get(reverse("advisories:api_tokens")).status_code == 404
    client.force_login(admin)

    page = client.get(reverse("advisories:api_tokens")).text

    assert "SIEM feed" in page
    assert admin.email in page
    assert "never" in page
