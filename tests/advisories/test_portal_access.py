"""The partner portal over HTTP: who sees what, 404 for anything not theirs, instant effect of suspension and
expiry, personalised and recorded downloads."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advisories import services
from advisories.fingerprinting import without_homoglyphs
from advisories.models import AccessKind, DownloadEvent
from compliance.models import Agreement
from core.levels import AccessLevel
from partners import services as partner_services
from tests.factories import (
    AdvisoryFactory,
    ArtifactFactory,
    DocumentFactory,
    UserFactory,
    WaveFactory,
    acknowledge_handling_for_every_member,
)


def _release(advisory, level):
    WaveFactory(advisory=advisory, level=level, scheduled_at=timezone.now())
    services.release_due_waves()
    # These tests are about access; the handling acknowledgement has its own tests (test_handling_acknowledgement).
    acknowledge_handling_for_every_member(advisory)


def _detail(advisory):
    return reverse("advisories:detail", args=[advisory.identifier])


def _download(artifact):
    return reverse("advisories:artifact", args=[artifact.advisory.identifier, artifact.pk])


@pytest.mark.django_db
def test_anonymous_visitor_is_sent_to_login(client, advisory):
    response = client.get(reverse("advisories:list"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_wrong_password_is_refused_with_a_clear_message(client, early_partner, member_of):
    member_of(early_partner, user=UserFactory(email="analyst@northwind.test"))

    response = client.post(reverse("login"), {"username": "analyst@northwind.test", "password": "wrong"})

    assert response.status_code == 200
    assert "Please enter a correct email address and password" in response.text
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_list_shows_only_advisories_released_to_my_organisation(early_client, advisory, early_partner, make_partner):
    other = AdvisoryFactory(title="Not released to anyone yet")
    _release(advisory, AccessLevel.EARLY)

    response = early_client.get(reverse("advisories:list"))

    assert response.status_code == 200
    assert advisory.identifier in response.text
    assert other.identifier not in response.text


@pytest.mark.django_db
def test_list_search_filters_by_identifier_title_or_cve(early_client, advisory):
    second = AdvisoryFactory(title="Heap overflow in Widget", cve_ids=["CVE-2026-55555"])
    _release(advisory, AccessLevel.EARLY)
    _release(second, AccessLevel.EARLY)

    response = early_client.get(reverse("advisories:list"), {"q": "CVE-2026-55555"})

    assert second.identifier in response.text
    assert advisory.identifier not in response.text


@pytest.mark.django_db
def test_unreleased_advisory_answers_404(early_client, advisory):
    response = early_client.get(_detail(advisory))

    assert response.status_code == 404


@pytest.mark.django_db
def test_advisory_released_to_another_organisation_answers_404(
    client, advisory, early_partner, make_partner, member_of
):
    _release(advisory, AccessLevel.EARLY)
    outsider = make_partner(level=AccessLevel.EARLY, legal_name="Latecomer Ltd")
    client.force_login(member_of(outsider))

    assert client.get(_detail(advisory)).status_code == 404
    assert client.get(_download(advisory.artifacts.first())).status_code == 404


@pytest.mark.django_db
def test_standard_partner_sees_standard_content_but_not_early_files(client, advisory, make_partner, member_of):
    partner = make_partner(level=AccessLevel.STANDARD)
    client.force_login(member_of(partner))
    _release(advisory, AccessLevel.STANDARD)
    rule = advisory.artifacts.get(level=AccessLevel.STANDARD)
    poc = advisory.artifacts.get(level=AccessLevel.EARLY)

    response = client.get(_detail(advisory))

    assert response.status_code == 200
    seen = without_homoglyphs(response.text)  # served text is fingerprinted: compare what a reader sees
    assert "Standard <strong>technical</strong> details." in seen
    assert "Detection rule" in seen
    assert "Proof of concept" not in seen
    assert client.get(_download(rule)).status_code == 200
    assert client.get(_download(poc)).status_code == 404


@pytest.mark.django_db
def test_generic_partner_sees_only_the_generic_description(client, advisory, make_partner, member_of):
    partner = make_partner(level=AccessLevel.GENERIC)
    client.force_login(member_of(partner))
    _release(advisory, AccessLevel.GENERIC)

    response = client.get(_detail(advisory))

    seen = without_homoglyphs(response.text)  # served text is fingerprinted: compare what a reader sees
    assert "Generic summary of the flaw." in seen
    assert "technical" not in seen
    assert "Detection rule" not in seen


@pytest.mark.django_db
def test_suspension_refuses_access_at_once_before_any_permission_clean_up(
    early_client, advisory, early_partner, manager
):
    _release(advisory, AccessLevel.EARLY)
    assert early_client.get(_detail(advisory)).status_code == 200

    partner_services.suspend_partner(partner=early_partner, actor=manager, reason="Leak under investigation")

    assert early_partner.group.advisorygroupobjectpermission_set.exists()
    # Refused on every partner page alike, whatever the object: no existence oracle.
    assert early_client.get(reverse("advisories:list")).status_code == 403
    assert early_client.get(_detail(advisory)).status_code == 403
    assert early_client.get(_download(advisory.artifacts.first())).status_code == 403
    assert early_client.get(_detail(AdvisoryFactory())).status_code == 403


@pytest.mark.django_db
def test_access_ends_at_the_exact_second_the_agreement_expires(early_client, advisory, early_partner):
    _release(advisory, AccessLevel.EARLY)
    expiry = timezone.now() + timedelta(minutes=10)
    Agreement.objects.filter(partner=early_partner).update(valid_until=expiry)

    with time_machine.travel(expiry - timedelta(seconds=1), tick=False):
        assert early_client.get(_detail(advisory)).status_code == 200
    with time_machine.travel(expiry, tick=False):
        response = early_client.get(_detail(advisory))
    assert response.status_code == 403
    assert "No access to advisories" in response.text


@pytest.mark.django_db
def test_a_level_lowered_after_release_hides_the_higher_level_content_at_once(
    early_client, advisory, early_partner, poc_addendum
):
    _release(advisory, AccessLevel.EARLY)
    poc = advisory.artifacts.get(level=AccessLevel.EARLY)
    assert early_client.get(_download(poc)).status_code == 200

    Agreement.objects.filter(partner=early_partner, contract_version=poc_addendum).update(valid_until=timezone.now())

    assert early_client.get(_download(poc)).status_code == 404
    assert early_client.get(_detail(advisory)).status_code == 200


@pytest.mark.django_db
def test_inactive_membership_sees_nothing(client, advisory, early_partner, member_of):
    user = member_of(early_partner, is_active=False)
    client.force_login(user)
    _release(advisory, AccessLevel.EARLY)

    assert client.get(reverse("advisories:list")).status_code == 404
    assert client.get(_detail(advisory)).status_code == 404


@pytest.mark.django_db
def test_staff_cannot_use_partner_pages(client, manager, advisory):
    _release(advisory, AccessLevel.EARLY)
    client.force_login(manager)

    assert client.get(reverse("advisories:list")).status_code == 404
    assert client.get(_detail(advisory)).status_code == 404


@pytest.mark.django_db
def test_partner_users_cannot_reach_the_management_site(early_client):
    response = early_client.get(reverse("admin:index"))

    assert response.status_code == 302
    assert "login" in response["Location"]


@pytest.mark.django_db
def test_program_manager_reaches_the_management_site(client, manager):
    client.force_login(manager)

    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("home")).url == reverse("program:dashboard")


@pytest.mark.django_db
def test_viewing_an_advisory_is_recorded_with_delivery_ip_and_user_agent(early_client, advisory, early_partner):
    _release(advisory, AccessLevel.EARLY)

    early_client.get(_detail(advisory), HTTP_USER_AGENT="Analyst Browser/1.0", REMOTE_ADDR="198.51.100.7")

    event = DownloadEvent.objects.get()
    assert event.kind == AccessKind.VIEW
    assert event.partner == early_partner
    assert event.delivery.partner == early_partner
    assert event.ip_address == "198.51.100.7"
    assert event.user_agent == "Analyst Browser/1.0"


@pytest.mark.django_db
def test_download_streams_the_file_with_an_issued_to_banner_and_is_recorded(early_client, advisory, early_partner):
    _release(advisory, AccessLevel.EARLY)
    poc = advisory.artifacts.get(level=AccessLevel.EARLY)

    response = early_client.get(_download(poc))

    body = b"".join(response.streaming_content).decode()
    first_line, rest = body.split("\n", 1)
    assert first_line.startswith("# TLP:AMBER - issued to ")
    assert str(early_partner) in first_line
    assert rest == "print('proof of concept')\n"
    assert response["Content-Disposition"] == 'attachment; filename="poc.py"'
    event = DownloadEvent.objects.get(kind=AccessKind.DOWNLOAD)
    assert event.artifact == poc
    assert first_line.find(f"delivery {event.delivery_id}") > 0


@pytest.mark.django_db
def test_binary_files_are_served_unchanged(early_client, advisory):
    payload = bytes(range(256))
    binary = ArtifactFactory(advisory=advisory, level=AccessLevel.EARLY, content=payload, filename="sample.bin")
    _release(advisory, AccessLevel.EARLY)

    response = early_client.get(_download(binary))

    assert b"".join(response.streaming_content) == payload


@pytest.mark.django_db
def test_markdown_is_sanitised_before_display(early_client, advisory):
    DocumentFactory(advisory=AdvisoryFactory(), level=AccessLevel.GENERIC)
    document = advisory.documents.get(level=AccessLevel.GENERIC)
    document.body_markdown = 'Hello <script>alert(1)</script> <img src=x onerror="alert(2)"> [x](javascript:alert(3))'
    document.save()
    _release(advisory, AccessLevel.EARLY)

    response = early_client.get(_detail(advisory))

    seen = without_homoglyphs(response.text)  # served text is fingerprinted: compare what a reader sees
    assert "<script>alert(1)" not in seen
    assert "onerror" not in seen
    assert "javascript:" not in seen


@pytest.mark.django_db
def test_advisory_list_query_count_does_not_grow_with_the_number_of_advisories(early_client):
    def list_queries():
        with CaptureQueriesContext(connection) as queries:
            assert early_client.get(reverse("advisories:list")).status_code == 200
        return len(queries)

    _release(AdvisoryFactory(), AccessLevel.EARLY)
    few = list_queries()
    for _ in range(15):
        _release(AdvisoryFactory(), AccessLevel.EARLY)

    assert list_queries() == few


@pytest.mark.django_db
def test_advisory_page_query_count_does_not_grow_with_documents_and_files(early_client, advisory):
    _release(advisory, AccessLevel.EARLY)
    with CaptureQueriesContext(connection) as before:
        early_client.get(_detail(advisory))
    second = AdvisoryFactory()
    for _ in range(5):
        ArtifactFactory(advisory=second, level=AccessLevel.EARLY)
    DocumentFactory(advisory=second, level=AccessLevel.GENERIC)
    DocumentFactory(advisory=second, level=AccessLevel.STANDARD)
    _release(second, AccessLevel.EARLY)

    with CaptureQueriesContext(connection) as after:
        early_client.get(_detail(second))

    assert len(after) == len(before)
