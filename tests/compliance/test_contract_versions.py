"""Program managers publish contract versions, which never change afterwards, and see who signed what, who is
missing a required version and which agreements expire soon."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from compliance import services
from compliance.models import ContractVersion, text_sha256
from core.levels import AccessLevel
from core.models import AuditEvent
from core.roles import COMPLIANCE_OFFICERS
from partners.models import MemberRole
from tests.factories import AgreementFactory, ContractVersionFactory, PartnerFactory, UserFactory


def _publish_form(**overrides):
    data = {
        "contract_key": "nda",
        "title": "Partner Program NDA",
        "version": "2",
        "text": "# NDA v2\n\nKeep advisories confidential until public release.",
        "effective_at": "2026-12-01T00:00",
        "required_from_level": str(AccessLevel.GENERIC.value),
        "validity_days": "365",
        "previous_versions_valid_until": "2027-01-01T00:00",
    }
    return {**data, **overrides}


@pytest.mark.django_db
def test_manager_publishes_a_new_version_with_the_hash_of_its_text(manager_client, manager, nda):
    response = manager_client.post(reverse("compliance:contract_publish"), _publish_form())

    version = ContractVersion.objects.get(contract_key="nda", version=2)
    assert response.status_code == 302
    assert response["Location"] == reverse("compliance:contract_version", args=[version.pk])
    assert version.text_sha256 == text_sha256("# NDA v2\n\nKeep advisories confidential until public release.")
    assert version.effective_at.isoformat() == "2026-12-01T00:00:00+00:00"
    assert version.previous_versions_valid_until.isoformat() == "2027-01-01T00:00:00+00:00"
    assert AuditEvent.objects.get(action="contract.published").actor == manager


@pytest.mark.django_db
def test_publishing_refuses_a_version_number_that_is_not_above_the_latest(manager_client, nda):
    response = manager_client.post(reverse("compliance:contract_publish"), _publish_form(version="1"))

    assert response.status_code == 200
    assert "Version must be above 1." in response.text
    assert ContractVersion.objects.filter(contract_key="nda").count() == 1


@pytest.mark.django_db
def test_publishing_refuses_a_re_sign_deadline_before_the_version_takes_effect(manager_client, nda):
    response = manager_client.post(
        reverse("compliance:contract_publish"), _publish_form(previous_versions_valid_until="2026-11-30T00:00")
    )

    assert "cannot come before the version takes effect" in response.text
    assert not ContractVersion.objects.filter(contract_key="nda", version=2).exists()


@pytest.mark.django_db
def test_the_next_version_form_starts_from_the_current_text_with_the_next_number(manager_client, nda):
    response = manager_client.get(reverse("compliance:contract_publish"), {"from": nda.pk})

    form = response.context["form"]
    assert form.initial["version"] == 2
    assert form.initial["text"] == nda.text
    assert form.initial["contract_key"] == "nda"


@pytest.mark.django_db
def test_the_publish_form_ignores_a_malformed_starting_version(manager_client, nda):
    response = manager_client.get(reverse("compliance:contract_publish"), {"from": "nda'"})

    assert response.status_code == 200
    assert "contract_key" not in response.context["form"].initial


@pytest.mark.django_db
def test_a_published_version_cannot_be_changed_through_the_model(nda):
    nda.text = "A quietly changed text."

    with pytest.raises(PermissionDenied, match="A published contract version cannot be changed; publish a new version"):
        nda.save()

    nda.refresh_from_db()
    assert nda.text == "The partner keeps advisories confidential until public release."


@pytest.mark.django_db
def test_a_published_version_cannot_be_changed_or_deleted_in_bulk(nda):
    with pytest.raises(PermissionDenied, match="A published contract version cannot be changed; publish a new version"):
        ContractVersion.objects.filter(pk=nda.pk).update(text="A quietly changed text.")
    with pytest.raises(PermissionDenied, match="A published contract version cannot be deleted"):
        ContractVersion.objects.filter(pk=nda.pk).delete()
    with pytest.raises(PermissionDenied, match="A published contract version cannot be deleted"):
        nda.delete()

    assert ContractVersion.objects.get(pk=nda.pk).text_sha256 == text_sha256(nda.text)


@pytest.mark.django_db
def test_a_published_version_cannot_be_edited_on_the_staff_pages_or_in_the_admin(client, nda):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    staff_page = client.post(reverse("compliance:contract_version", args=[nda.pk]), {"text": "Changed."})
    admin_page = client.post(
        reverse("admin:compliance_contractversion_change", args=[nda.pk]),
        {"title": "Changed", "text": "Changed.", "contract_key": "nda", "version": "1"},
    )

    assert staff_page.status_code == 405
    assert admin_page.status_code == 302  # the admin shows every field read-only and saves nothing
    nda.refresh_from_db()
    assert (nda.title, nda.text) == (
        "Partner Program NDA",
        "The partner keeps advisories confidential until public release.",
    )


@pytest.mark.django_db
def test_the_database_refuses_changing_a_published_version_on_postgresql(nda):
    if connection.vendor != "postgresql":
        pytest.skip("The immutability trigger exists on PostgreSQL only; CI runs this on PostgreSQL.")

    with (
        pytest.raises(DatabaseError, match="A published contract version cannot be changed or deleted"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE compliance_contractversion SET text = 'changed' WHERE id = %s", [nda.pk])


@pytest.mark.django_db
def test_only_program_managers_publish(nda):
    officer = UserFactory(is_staff=True)
    officer.groups.create(name=COMPLIANCE_OFFICERS)

    with pytest.raises(PermissionDenied, match="Only program managers may do this"):
        services.publish_contract_version(
            actor=officer,
            contract_key="nda",
            title="NDA",
            version=2,
            text="Text.",
            effective_at=timezone.now(),
            required_from_level=AccessLevel.GENERIC,
        )


@pytest.mark.django_db
def test_compliance_officer_sees_contracts_but_cannot_open_the_publish_page(client, nda):
    officer = UserFactory(is_staff=True)
    officer.groups.create(name=COMPLIANCE_OFFICERS)
    client.force_login(officer)

    assert client.get(reverse("compliance:contract_list")).status_code == 200
    assert client.get(reverse("compliance:signing_status")).status_code == 200
    assert client.get(reverse("compliance:contract_publish")).status_code == 403


@pytest.mark.django_db
def test_partner_users_cannot_reach_the_contract_management_pages(client, make_partner, member_of, nda):
    admin = member_of(make_partner(), role=MemberRole.ADMIN)
    client.force_login(admin)

    assert client.get(reverse("compliance:contract_list")).status_code == 404
    assert client.get(reverse("compliance:contract_version", args=[nda.pk])).status_code == 404
    assert client.get(reverse("compliance:signing_status")).status_code == 404


@pytest.mark.django_db
def test_contract_list_shows_every_version_with_its_state(manager_client, nda, poc_addendum):
    ContractVersionFactory(contract_key="nda", version=2, effective_at=timezone.now() - timedelta(hours=1))

    response = manager_client.get(reverse("compliance:contract_list"))

    assert response.status_code == 200
    assert response.text.count("in force") == 2
    assert "superseded" in response.text


@pytest.mark.django_db
def test_signing_status_names_who_is_missing_a_required_version(manager_client, make_partner, nda, poc_addendum):
    make_partner(level=AccessLevel.EARLY, legal_name="Complete Ltd")
    make_partner(level=AccessLevel.EARLY, legal_name="No Addendum Ltd", contracts=[nda])
    make_partner(level=AccessLevel.STANDARD, legal_name="Standard Ltd", contracts=[nda])

    response = manager_client.get(reverse("compliance:signing_status"))

    missing = {row.partner.legal_name: [s.version for s in row.missing] for row in response.context["missing"]}
    assert missing == {"No Addendum Ltd": [poc_addendum]}


@pytest.mark.django_db
def test_signing_status_counts_an_old_version_until_the_re_sign_deadline(manager_client, make_partner, nda):
    partner = make_partner(level=AccessLevel.STANDARD, legal_name="Slow Signer Ltd", contracts=[nda])
    deadline = timezone.now() + timedelta(days=10)
    ContractVersionFactory(
        contract_key="nda", version=2, effective_at=timezone.now(), previous_versions_valid_until=deadline
    )

    response = manager_client.get(reverse("compliance:signing_status"))

    (row,) = [row for row in response.context["overview"] if row.partner == partner]
    (standing,) = [s for s in row.standings if s.version.contract_key == "nda"]
    assert standing.state == "previous_version"
    assert standing.covered_until == deadline
    assert standing.expiring_soon


@pytest.mark.django_db
def test_signing_status_lists_upcoming_expiries_soonest_first(manager_client, nda):
    now = timezone.now()
    late = PartnerFactory(legal_name="Late Ltd", assigned_level=AccessLevel.GENERIC)
    soon = PartnerFactory(legal_name="Soon Ltd", assigned_level=AccessLevel.GENERIC)
    fine = PartnerFactory(legal_name="Fine Ltd", assigned_level=AccessLevel.GENERIC)
    AgreementFactory(partner=late, contract_version=nda, valid_until=now + timedelta(days=20))
    AgreementFactory(partner=soon, contract_version=nda, valid_until=now + timedelta(days=3))
    AgreementFactory(partner=fine, contract_version=nda, valid_until=now + timedelta(days=200))

    response = manager_client.get(reverse("compliance:signing_status"))

    assert [partner.legal_name for partner, _ in response.context["expiring"]] == ["Soon Ltd", "Late Ltd"]


@pytest.mark.django_db
def test_signing_status_query_count_does_not_grow_with_the_number_of_organisations(
    manager_client, make_partner, nda, poc_addendum
):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert manager_client.get(reverse("compliance:signing_status")).status_code == 200
        return len(captured)

    make_partner()
    few = queries()
    for _ in range(12):
        make_partner()

    assert queries() == few


@pytest.mark.django_db
def test_contract_list_query_count_does_not_grow_with_the_number_of_versions(manager_client, nda):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert manager_client.get(reverse("compliance:contract_list")).status_code == 200
        return len(captured)

    few = queries()
    for number in range(2, 10):
        ContractVersionFactory(contract_key="nda", version=number)

    assert queries() == few


@pytest.mark.django_db
def test_version_text_must_not_be_empty(manager):
    with pytest.raises(ValidationError, match="A contract version needs a title and a text"):
        services.publish_contract_version(
            actor=manager,
            contract_key="nda",
            title="NDA",
            version=1,
            text="   ",
            effective_at=timezone.now(),
            required_from_level=AccessLevel.GENERIC,
        )
