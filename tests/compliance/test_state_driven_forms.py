"""Forms driven by a state machine offer only what the machine allows now: the violation's next steps, the
enforcement actions open for it and its organisation, an appeal's outcomes, an organisation's standing, an
application's review. A crafted request for anything else still reaches the service and gets its refusal."""

import re

import pytest
from django.urls import reverse

from compliance import services
from compliance.models import Appeal, ViolationStatus
from partners import services as partner_services
from partners.models import ApplicationStatus, PartnerStatus
from tests.confirmation import CONFIRMED
from tests.factories import PartnerApplicationFactory

pytestmark = pytest.mark.django_db


def _values(response, name) -> list[str]:
    """The values a person can pick for field `name` on the page (radio buttons or options of its select)."""
    radios = re.findall(rf'<input type="radio" name="{name}" value="([^"]*)"', response.text)
    if radios:
        return radios
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', response.text, re.DOTALL)
    return re.findall(r'<option value="([^"]*)"', select.group(1)) if select else []


def _detail(client, violation):
    return client.get(reverse("compliance:violation_detail", args=[violation.pk]))


def test_a_reported_violation_offers_only_starting_the_investigation_and_no_enforcement(
    officer_client, partner, compliance_officer
):
    violation = services.report_violation(
        actor=compliance_officer, partner=partner, kind="leak", severity="high", summary="Forum post"
    )

    response = _detail(officer_client, violation)

    assert _values(response, "transition") == ["start_investigation"]
    assert _values(response, "kind") == []
    assert "follow a substantiated violation" in response.text


def test_an_investigated_violation_offers_substantiating_or_dismissing_when_it_is_investigating(
    officer_client, partner, compliance_officer
):
    violation = services.report_violation(
        actor=compliance_officer, partner=partner, kind="leak", severity="high", summary="Forum post"
    )
    services.start_investigation(violation=violation, actor=compliance_officer, note="Looking")

    assert _values(_detail(officer_client, violation), "transition") == ["substantiate", "dismiss"]


def test_enforcement_offers_no_reinstatement_when_the_organisation_is_active(officer_client, substantiated):
    response = _detail(officer_client, substantiated)

    assert _values(response, "transition") == ["close"]
    assert _values(response, "kind") == ["warning", "level_cap", "suspension", "removal"]
    assert "Reinstate" not in response.text


def test_enforcement_offers_reinstatement_and_no_second_suspension_when_the_organisation_is_suspended(
    officer_client, substantiated, compliance_officer
):
    services.suspend_for_violation(violation=substantiated, actor=compliance_officer, reason="Leak")

    response = _detail(officer_client, substantiated)

    assert _values(response, "kind") == ["warning", "level_cap", "removal", "reinstatement"]


def test_nothing_is_offered_when_the_organisation_is_removed(officer_client, substantiated, compliance_officer):
    services.remove_for_violation(violation=substantiated, actor=compliance_officer, reason="Sold data")

    response = _detail(officer_client, substantiated)

    assert _values(response, "kind") == []
    assert 'action="/program/compliance/violations/' + str(substantiated.pk) + '/enforce/"' not in response.text


def test_a_crafted_transition_the_page_did_not_offer_is_refused_by_the_service(officer_client, substantiated):
    response = officer_client.post(
        reverse("compliance:violation_transition", args=[substantiated.pk]),
        {"transition": "start_investigation", "note": "Again"},
        follow=True,
    )

    substantiated.refresh_from_db()
    assert substantiated.status == ViolationStatus.SUBSTANTIATED
    assert '<li class="error">' in response.text


def test_a_crafted_reinstatement_of_an_active_organisation_is_refused(officer_client, substantiated, partner):
    officer_client.post(
        reverse("compliance:violation_enforce", args=[substantiated.pk]),
        {"kind": "reinstatement", "reason": "Why not", **CONFIRMED},
    )

    partner.refresh_from_db()
    assert partner.status == PartnerStatus.ACTIVE
    assert not substantiated.enforcement_actions.exists()


def test_an_appeal_against_removal_offers_only_upholding_it(
    officer_client, substantiated, compliance_officer, partner_admin
):
    cap = services.impose_level_cap(violation=substantiated, actor=compliance_officer, cap_level=1, reason="PoC")
    appeal = services.file_appeal(actor=partner_admin, action=cap, statement="Please")
    assert _values(officer_client.get(reverse("compliance:appeal_detail", args=[appeal.pk])), "outcome") == [
        "uphold",
        "overturn",
    ]
    removal = services.remove_for_violation(violation=substantiated, actor=compliance_officer, reason="Sold data")
    removal_appeal = Appeal.objects.create(action=removal, statement="Please", filed_by=partner_admin)

    response = officer_client.get(reverse("compliance:appeal_detail", args=[removal_appeal.pk]))

    assert _values(response, "outcome") == ["uphold"]


@pytest.mark.parametrize(
    ("standing", "forms"),
    [
        ("active", {"suspend", "remove"}),
        ("suspended", {"reinstate", "remove"}),
        ("removed", set()),
    ],
)
def test_the_organisation_page_offers_only_the_standing_changes_its_state_allows(
    client, manager, partner, standing, forms
):
    if standing == "suspended":
        partner_services.suspend_partner(partner=partner, actor=manager, reason="Review")
    if standing == "removed":
        partner_services.remove_partner(partner=partner, actor=manager, reason="Gone")
    client.force_login(manager)

    response = client.get(reverse("program:partner_detail", args=[partner.pk]))

    offered = set(re.findall(rf'action="/program/partners/{partner.pk}/(suspend|reinstate|remove)/"', response.text))
    assert offered == forms


@pytest.mark.parametrize(
    ("status", "start", "decide"),
    [
        (ApplicationStatus.EMAIL_VERIFIED, True, False),
        (ApplicationStatus.UNDER_REVIEW, False, True),
        (ApplicationStatus.APPROVED, False, False),
        (ApplicationStatus.REJECTED, False, False),
    ],
)
def test_the_application_page_offers_only_the_review_steps_its_state_allows(client, manager, status, start, decide):
    application = PartnerApplicationFactory(status=status)
    client.force_login(manager)

    response = client.get(reverse("program:application_detail", args=[application.pk]))

    assert ("/review/" in response.text) == start
    assert ("/approve/" in response.text and "/reject/" in response.text) == decide
