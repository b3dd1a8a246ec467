"""The program managers' vetting queue and application page over HTTP."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.levels import AccessLevel
from core.models import AuditEvent
from partners.models import ApplicationStatus, PartnerApplication
from tests.confirmation import CONFIRMED
from tests.factories import JurisdictionPolicyFactory, MembershipFactory, PartnerApplicationFactory


@pytest.mark.django_db
def test_the_queue_lists_verified_and_in_review_applications_only(manager_client):
    PartnerApplicationFactory(legal_name="Verified Co", status="email_verified")
    PartnerApplicationFactory(legal_name="Reviewed Co", status="under_review")
    PartnerApplicationFactory(legal_name="Unconfirmed Co", status="submitted")
    PartnerApplicationFactory(legal_name="Rejected Co", status="rejected")

    response = manager_client.get(reverse("program:application_list"))

    names = [a.legal_name for a in response.context["page"].object_list]
    assert names == ["Verified Co", "Reviewed Co"]


@pytest.mark.django_db
def test_the_queue_filters_by_status_country_and_search(manager_client):
    PartnerApplicationFactory(legal_name="Alpha", status="rejected", country="FR")
    PartnerApplicationFactory(legal_name="Beta", status="rejected", country="DE")
    PartnerApplicationFactory(legal_name="Gamma", status="email_verified", country="FR")

    response = manager_client.get(reverse("program:application_list"), {"status": "rejected", "country": "FR"})
    assert [a.legal_name for a in response.context["page"].object_list] == ["Alpha"]

    response = manager_client.get(reverse("program:application_list"), {"q": "gam"})
    assert [a.legal_name for a in response.context["page"].object_list] == ["Gamma"]


@pytest.mark.django_db
def test_the_queue_never_shows_unconfirmed_applications_even_when_asked(manager_client):
    PartnerApplicationFactory(legal_name="Unconfirmed Co", status="submitted")

    response = manager_client.get(reverse("program:application_list"), {"status": "submitted"})

    assert "Unconfirmed Co" not in response.text


@pytest.mark.django_db
def test_the_application_page_shows_risk_flags_and_the_level_cap(manager_client):
    JurisdictionPolicyFactory(country="CN", cap_level=AccessLevel.GENERIC)
    application = PartnerApplicationFactory(country="CN", status="under_review", reporting_duty=True)

    response = manager_client.get(reverse("program:application_detail", args=[application.pk]))

    assert response.status_code == 200
    assert "caps partners in China at generic" in response.text
    assert "legal duty to report" in response.text
    assert "allows at most <strong>generic</strong>" in response.text


@pytest.mark.django_db
def test_a_manager_starts_the_review_ticks_the_checklist_and_adds_a_note(manager_client, manager):
    application = PartnerApplicationFactory()
    detail = reverse("program:application_detail", args=[application.pk])

    manager_client.post(reverse("program:application_start_review", args=[application.pk]))
    manager_client.post(reverse("program:application_checklist", args=[application.pk]), {"identity": "on"})
    manager_client.post(reverse("program:application_note", args=[application.pk]), {"body": "Called their CEO."})

    application.refresh_from_db()
    assert (application.status, application.reviewer) == (ApplicationStatus.UNDER_REVIEW, manager)
    assert list(application.checklist) == ["identity"]
    assert "Called their CEO." in manager_client.get(detail).text


@pytest.mark.django_db
def test_a_refused_approval_answers_with_a_clear_message_and_changes_nothing(manager_client):
    application = PartnerApplicationFactory(status="under_review")

    response = manager_client.post(
        reverse("program:application_approve", args=[application.pk]), {"assigned_level": 1}, follow=True
    )

    assert "Complete the due-diligence checklist" in response.text
    application.refresh_from_db()
    assert application.status == ApplicationStatus.UNDER_REVIEW
    assert not AuditEvent.objects.filter(action="application.approved").exists()


@pytest.mark.django_db
def test_approving_above_the_cap_over_http_is_refused_with_the_cap_named(manager_client, application_under_review):
    JurisdictionPolicyFactory(country=application_under_review.country, cap_level=AccessLevel.STANDARD)

    response = manager_client.post(
        reverse("program:application_approve", args=[application_under_review.pk]),
        {"assigned_level": AccessLevel.EARLY},
        follow=True,
    )

    assert "cannot exceed standard" in response.text
    application_under_review.refresh_from_db()
    assert application_under_review.status == ApplicationStatus.UNDER_REVIEW


@pytest.mark.django_db
def test_rejecting_over_http_needs_a_reason(manager_client):
    application = PartnerApplicationFactory(status="under_review")
    url = reverse("program:application_reject", args=[application.pk])

    response = manager_client.post(url, {"reason": ""}, follow=True)
    assert "A written reason is required" in response.text

    manager_client.post(url, {"reason": "Not a security vendor.", **CONFIRMED})
    application.refresh_from_db()
    assert (application.status, application.decision_reason) == (ApplicationStatus.REJECTED, "Not a security vendor.")


@pytest.mark.django_db
def test_partners_get_404_on_the_vetting_pages(client, make_partner):
    client.force_login(MembershipFactory(partner=make_partner(), role="admin").user)
    application = PartnerApplicationFactory()

    assert client.get(reverse("program:application_list")).status_code == 404
    assert client.get(reverse("program:application_detail", args=[application.pk])).status_code == 404
    assert client.post(reverse("program:application_start_review", args=[application.pk])).status_code == 404
    assert PartnerApplication.objects.get().status == ApplicationStatus.EMAIL_VERIFIED


@pytest.mark.django_db
def test_compliance_officers_are_refused_the_vetting_pages(client, compliance_officer):
    client.force_login(compliance_officer)

    assert client.get(reverse("program:application_list")).status_code == 403


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("program:application_list"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.django_db
def test_the_queue_runs_the_same_number_of_queries_for_2_or_20_applications(manager_client, manager):
    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            assert manager_client.get(reverse("program:application_list")).status_code == 200
        return len(queries)

    PartnerApplicationFactory.create_batch(2, status="under_review", reviewer=manager)
    few = count_queries()
    PartnerApplicationFactory.create_batch(18, status="under_review", reviewer=manager)

    assert count_queries() == few
