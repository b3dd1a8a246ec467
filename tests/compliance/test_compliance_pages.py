"""The compliance pages over HTTP: thin views over the services, with a preview before a policy is saved, files
served only to compliance officers, appeals filed in the portal, list pages in a fixed number of queries."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from compliance import services
from compliance.entitlements import effective_level
from compliance.models import Appeal, AppealStatus, EnforcementAction, JurisdictionPolicy, Violation, ViolationStatus
from core.levels import AccessLevel
from partners.models import PartnerStatus
from tests.confirmation import CONFIRMED
from tests.factories import ComplianceReviewFactory, MembershipFactory, PartnerFactory, ViolationFactory


def _policy_form(**overrides):
    data = {
        "country": "DE",
        "cap_level": AccessLevel.GENERIC,
        "effective_at": (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "reason": "Mandatory reporting law",
    }
    return data | overrides


@pytest.mark.django_db
def test_a_new_policy_is_previewed_with_the_organisations_it_changes_and_not_saved(officer_client, make_partner):
    make_partner(level=AccessLevel.EARLY, country="DE", legal_name="Early GmbH")
    make_partner(level=AccessLevel.GENERIC, country="DE", legal_name="Generic GmbH")

    response = officer_client.post(reverse("compliance:policy_list"), _policy_form())

    assert response.status_code == 200
    assert [(c.partner.legal_name, c.before, c.after) for c in response.context["preview"]] == [
        ("Early GmbH", AccessLevel.EARLY, AccessLevel.GENERIC)
    ]
    assert "Confirm and save" in response.text
    assert not JurisdictionPolicy.objects.exists()


@pytest.mark.django_db
def test_a_confirmed_policy_is_saved(officer_client, compliance_officer):
    response = officer_client.post(reverse("compliance:policy_list"), _policy_form(confirm="yes"))

    assert response.status_code == 302
    policy = JurisdictionPolicy.objects.get()
    assert (str(policy.country), policy.cap_level, policy.created_by) == ("DE", AccessLevel.GENERIC, compliance_officer)


@pytest.mark.django_db
def test_a_program_manager_reports_a_violation_over_http(client, manager, partner):
    client.force_login(manager)

    response = client.post(
        reverse("compliance:violation_report"),
        {
            "partner": partner.pk,
            "kind": "misuse",
            "severity": "medium",
            "summary": "Advisory text in a sales deck",
            "related_advisories": "fwn-2026-0001, FWN-2026-0002",
        },
    )

    assert response.status_code == 302
    violation = Violation.objects.get()
    assert (violation.reported_by, violation.related_advisories) == (manager, ["FWN-2026-0001", "FWN-2026-0002"])


@pytest.mark.django_db
def test_an_officer_moves_a_violation_on_over_http(officer_client, partner):
    violation = ViolationFactory(partner=partner)

    officer_client.post(
        reverse("compliance:violation_transition", args=[violation.pk]),
        {"transition": "start_investigation", "note": "Asked for their logs"},
    )

    violation.refresh_from_db()
    assert violation.status == ViolationStatus.INVESTIGATING


@pytest.mark.django_db
def test_a_refused_transition_is_shown_and_changes_nothing(officer_client, partner):
    violation = ViolationFactory(partner=partner)

    response = officer_client.post(
        reverse("compliance:violation_transition", args=[violation.pk]),
        {"transition": "close", "note": "Too early"},
        follow=True,
    )

    violation.refresh_from_db()
    assert violation.status == ViolationStatus.REPORTED
    assert "cannot be closed" in response.text


@pytest.mark.django_db
def test_an_officer_caps_an_organisation_over_http(officer_client, substantiated):
    officer_client.post(
        reverse("compliance:violation_enforce", args=[substantiated.pk]),
        {"kind": "level_cap", "cap_level": AccessLevel.STANDARD, "reason": "No PoC for six months", **CONFIRMED},
    )

    assert EnforcementAction.objects.get().cap_level == AccessLevel.STANDARD
    assert effective_level(substantiated.partner) == AccessLevel.STANDARD


@pytest.mark.django_db
def test_evidence_is_uploaded_and_served_as_an_attachment_to_officers_only(
    officer_client, client, substantiated, manager
):
    officer_client.post(
        reverse("compliance:violation_evidence", args=[substantiated.pk]),
        {"file": SimpleUploadedFile("forum.txt", b"exploit posted here\n"), "description": "Forum"},
    )
    evidence = substantiated.evidence_files.get()
    url = reverse("compliance:evidence_download", args=[substantiated.pk, evidence.pk])

    response = officer_client.get(url)

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"exploit posted here\n"
    assert response["Content-Disposition"].startswith("attachment")
    client.force_login(manager)
    assert client.get(url).status_code == 403


@pytest.mark.django_db
def test_a_partner_admin_files_an_appeal_in_the_portal(admin_client, substantiated, compliance_officer):
    warning = services.issue_warning(violation=substantiated, actor=compliance_officer, reason="First warning")
    page = admin_client.get(reverse("compliance:partner_appeals"))
    assert "First warning" in page.text

    response = admin_client.post(
        reverse("compliance:partner_appeal_file", args=[warning.pk]), {"statement": "A misunderstanding."}
    )

    assert response.status_code == 302
    assert Appeal.objects.get().statement == "A misunderstanding."


@pytest.mark.django_db
def test_a_partner_admin_cannot_open_another_organisations_action(admin_client, compliance_officer):
    other = ViolationFactory(partner=PartnerFactory())
    action = EnforcementAction.objects.create(
        partner=other.partner, violation=other, kind="warning", starts_at=timezone.now(), reason="Theirs"
    )

    assert admin_client.get(reverse("compliance:partner_appeal_file", args=[action.pk])).status_code == 404


@pytest.mark.django_db
def test_an_admin_of_a_suspended_organisation_may_still_appeal(
    client, substantiated, compliance_officer, partner_admin
):
    suspension = services.suspend_for_violation(violation=substantiated, actor=compliance_officer, reason="Leak")
    client.force_login(partner_admin)

    response = client.post(
        reverse("compliance:partner_appeal_file", args=[suspension.pk]), {"statement": "Not us: see the logs."}
    )

    assert response.status_code == 302
    assert Appeal.objects.get().action == suspension


@pytest.mark.django_db
def test_an_officer_overturns_an_appeal_over_http_and_the_cap_ends(
    officer_client, substantiated, compliance_officer, partner_admin
):
    cap = services.impose_level_cap(
        violation=substantiated, actor=compliance_officer, cap_level=AccessLevel.GENERIC, reason="No PoC"
    )
    appeal = services.file_appeal(actor=partner_admin, action=cap, statement="Please reconsider")

    officer_client.post(
        reverse("compliance:appeal_detail", args=[appeal.pk]), {"outcome": "overturn", "decision": "Evidence weak"}
    )

    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.OVERTURNED
    assert effective_level(substantiated.partner) == AccessLevel.EARLY


@pytest.mark.django_db
def test_overturning_a_removal_over_http_is_refused_with_a_clear_message(
    officer_client, substantiated, compliance_officer, partner_admin
):
    removal = services.remove_for_violation(violation=substantiated, actor=compliance_officer, reason="Sold data")
    appeal = Appeal.objects.create(action=removal, statement="Please", filed_by=partner_admin)

    response = officer_client.post(
        reverse("compliance:appeal_detail", args=[appeal.pk]), {"outcome": "overturn", "decision": "Sorry"}
    )

    assert "removal is final" in response.text
    substantiated.partner.refresh_from_db()
    assert substantiated.partner.status == PartnerStatus.REMOVED


@pytest.mark.django_db
def test_the_reviews_page_lists_overdue_reviews_apart(officer_client):
    overdue = ComplianceReviewFactory(due_at=timezone.now() - timedelta(days=90))
    recent = ComplianceReviewFactory(due_at=timezone.now())

    response = officer_client.get(reverse("compliance:review_list"))

    assert response.context["overdue"] == [overdue]
    assert response.context["open"] == [recent]


@pytest.mark.django_db
def test_an_officer_records_a_review_over_http(officer_client, compliance_officer):
    review = ComplianceReviewFactory()

    officer_client.post(
        reverse("compliance:review_detail", args=[review.pk]), {"findings": "All in order", "outcome": "satisfactory"}
    )

    review.refresh_from_db()
    assert (review.outcome, review.reviewer) == ("satisfactory", compliance_officer)


@pytest.mark.django_db
def test_the_review_page_leads_to_the_organisations_protection_record(officer_client):
    review = ComplianceReviewFactory()

    response = officer_client.get(reverse("compliance:review_detail", args=[review.pk]))

    assert reverse("protection:partner_record", args=[review.partner.pk]) in response.text


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["compliance:violation_list", "compliance:review_list", "compliance:appeal_queue"])
def test_list_pages_take_a_fixed_number_of_queries(url_name, officer_client, compliance_officer):
    def add_rows():
        partner = PartnerFactory()
        admin = MembershipFactory(partner=partner, role="admin").user
        violation = ViolationFactory(partner=partner, status=ViolationStatus.SUBSTANTIATED)
        ComplianceReviewFactory(partner=partner, due_at=timezone.now() - timedelta(days=60))
        warning = services.issue_warning(violation=violation, actor=compliance_officer, reason="Warned")
        services.file_appeal(actor=admin, action=warning, statement="No")

    add_rows()
    url = reverse(url_name)
    few = _queries(officer_client, url)
    for _ in range(4):
        add_rows()

    assert _queries(officer_client, url) == few
