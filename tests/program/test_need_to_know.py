"""Drafts are need-to-know: before release only the program managers assigned to an advisory open or change it;
other staff see that it exists. Partners never see staff pages."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from advisories import services
from advisories.models import AdvisoryStatus
from tests.factories import AdvisoryFactory, UserFactory


def _client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def secret_draft(manager, hours_from_now):
    advisory = services.create_advisory(
        actor=manager,
        title="Zero-day in Acme firewall",
        public_release_at=hours_from_now(48),
        cve_ids=["CVE-2026-7777"],
    )
    services.save_document(
        actor=manager, advisory=advisory, level=1, title="Summary", body_markdown="Secret details of the flaw."
    )
    return advisory


@pytest.mark.django_db
def test_assigned_manager_opens_the_draft(manager_client, secret_draft):
    response = manager_client.get(reverse("program_advisories:detail", args=[secret_draft.identifier]))

    assert response.status_code == 200
    assert "Zero-day in Acme firewall" in response.text


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["detail", "edit", "plan", "withdraw", "artifact_upload"])
def test_unassigned_manager_sees_only_that_the_draft_exists(other_manager, secret_draft, page):
    response = _client(other_manager).get(reverse(f"program_advisories:{page}", args=[secret_draft.identifier]))

    assert response.status_code == 403
    assert secret_draft.identifier in response.text
    assert "Zero-day" not in response.text
    assert "CVE-2026-7777" not in response.text


@pytest.mark.django_db
def test_unassigned_manager_cannot_change_the_draft(other_manager, secret_draft):
    response = _client(other_manager).post(
        reverse("program_advisories:document", args=[secret_draft.identifier, "generic"]),
        {"title": "Hijacked", "body_markdown": "x"},
    )

    assert response.status_code == 403
    assert secret_draft.documents.get().title == "Summary"


@pytest.mark.django_db
def test_advisory_list_hides_titles_of_drafts_from_unassigned_managers(other_manager, secret_draft):
    response = _client(other_manager).get(reverse("program_advisories:list"))

    assert secret_draft.identifier in response.text
    assert "Zero-day" not in response.text
    assert "need-to-know" in response.text


@pytest.mark.django_db
def test_an_assigned_manager_can_assign_a_colleague_who_then_opens_the_draft(
    manager_client, other_manager, secret_draft
):
    manager_client.post(
        reverse("program_advisories:assign_manager", args=[secret_draft.identifier]), {"email": other_manager.email}
    )

    response = _client(other_manager).get(reverse("program_advisories:detail", args=[secret_draft.identifier]))
    assert response.status_code == 200
    assert "Zero-day in Acme firewall" in response.text


@pytest.mark.django_db
def test_partners_cannot_be_assigned(manager, secret_draft, make_partner, member_of):
    partner_user = member_of(make_partner())

    with pytest.raises(ValidationError, match="Only program managers"):
        services.assign_advisory_manager(actor=manager, advisory=secret_draft, manager=partner_user)


@pytest.mark.django_db
def test_after_release_every_manager_may_read_but_only_assigned_ones_edit(other_manager, db):
    released = AdvisoryFactory(status=AdvisoryStatus.RELEASED, title="Released flaw")
    client = _client(other_manager)

    assert client.get(reverse("program_advisories:detail", args=[released.identifier])).status_code == 200
    assert client.get(reverse("program_advisories:edit", args=[released.identifier])).status_code == 403


@pytest.mark.django_db
def test_partner_users_get_404_on_program_pages(client, make_partner, member_of, secret_draft):
    client.force_login(member_of(make_partner()))

    for url in (
        reverse("program_advisories:list"),
        reverse("program_advisories:detail", args=[secret_draft.identifier]),
        reverse("program_advisories:calendar"),
    ):
        assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_compliance_officers_are_refused_program_manager_pages(compliance_officer, secret_draft):
    response = _client(compliance_officer).get(reverse("program_advisories:list"))

    assert response.status_code == 403


@pytest.mark.django_db
def test_staff_without_a_role_cannot_preview_markdown(db):
    response = _client(UserFactory(is_staff=True)).post(reverse("program_advisories:preview"), {"text": "x"})

    assert response.status_code == 403


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_login(client, secret_draft):
    response = client.get(reverse("program_advisories:detail", args=[secret_draft.identifier]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
