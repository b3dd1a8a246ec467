"""An organisation's API token sees exactly what the organisation's users see in the portal: the same matrix of
levels, contract, jurisdiction and enforcement caps, suspension and expiry, compared request by request."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from compliance.models import Agreement
from core.levels import AccessLevel
from partners import services as partner_services
from tests.api.conftest import release
from tests.factories import AdvisoryFactory, HandlingAcknowledgementFactory, JurisdictionPolicyFactory, LevelCapFactory


def _portal_sees(client, advisory, unreleased):
    listing = client.get(reverse("advisories:list"))
    seen = {"list": listing.status_code}
    if listing.status_code == 302:
        # An organisation yet to sign is sent to its landing page, which says what to do next: no advisory either.
        assert listing.url == reverse("advisories:dashboard")
        seen["list"] = 403
    if seen["list"] == 200:
        page = client.get(reverse("advisories:list")).context["page"]
        seen["listed"] = {a.identifier for a in page.object_list}
    detail = client.get(reverse("advisories:detail", args=[advisory.identifier]))
    seen["detail"] = detail.status_code
    if detail.status_code == 200:
        seen["documents"] = {(d.get_level_display(), d.title) for d, _ in detail.context["documents"]}
        seen["files"] = {a.name for a in detail.context["advisory"].artifacts.all()}
    seen["downloads"] = {
        a.name: client.get(reverse("advisories:artifact", args=[advisory.identifier, a.pk])).status_code
        for a in advisory.artifacts.all()
    }
    seen["csaf"] = client.get(reverse("advisories:csaf", args=[advisory.identifier])).status_code
    seen["unreleased"] = client.get(reverse("advisories:detail", args=[unreleased.identifier])).status_code
    return seen


def _api_sees(api, advisory, unreleased):
    listing = api.get(reverse("api:advisories"))
    seen = {"list": listing.status_code}
    if listing.status_code == 200:
        seen["listed"] = {a["identifier"] for a in listing.json()["results"]}
    detail = api.get(reverse("api:advisory", args=[advisory.identifier]))
    seen["detail"] = detail.status_code
    if detail.status_code == 200:
        seen["documents"] = {(d["level"], d["title"]) for d in detail.json()["documents"]}
        seen["files"] = {a["name"] for a in detail.json()["artifacts"]}
    seen["downloads"] = {
        a.name: api.get(reverse("api:artifact", args=[advisory.identifier, a.pk])).status_code
        for a in advisory.artifacts.all()
    }
    seen["csaf"] = api.get(reverse("api:csaf", args=[advisory.identifier])).status_code
    seen["unreleased"] = api.get(reverse("api:advisory", args=[unreleased.identifier])).status_code
    return seen


def _suspend(partner, manager, **_):
    partner_services.suspend_partner(partner=partner, actor=manager, reason="Leak under investigation")


def _expire_agreements(partner, **_):
    Agreement.objects.filter(partner=partner).update(valid_until=timezone.now())


def _expire_poc_addendum(partner, poc_addendum, **_):
    Agreement.objects.filter(partner=partner, contract_version=poc_addendum).update(valid_until=timezone.now())


def _cap_to_standard(partner, **_):
    LevelCapFactory(partner=partner, cap_level=AccessLevel.STANDARD)


def _jurisdiction_generic(partner, **_):
    JurisdictionPolicyFactory(country=partner.country, cap_level=AccessLevel.GENERIC)


# (assigned level, country, which contracts it signed, what happens after the release, expected files seen)
SCENARIOS = {
    "early": (AccessLevel.EARLY, "US", "all", None, {"Detection rule", "Proof of concept"}),
    "standard": (AccessLevel.STANDARD, "US", "all", None, {"Detection rule"}),
    "generic": (AccessLevel.GENERIC, "US", "all", None, set()),
    "poc addendum never signed": (AccessLevel.EARLY, "US", "nda", None, {"Detection rule"}),
    "no agreement signed": (AccessLevel.EARLY, "US", "none", None, None),
    "poc addendum expired after release": (AccessLevel.EARLY, "US", "all", _expire_poc_addendum, {"Detection rule"}),
    "agreements expired after release": (AccessLevel.EARLY, "US", "all", _expire_agreements, None),
    "enforcement cap after release": (AccessLevel.EARLY, "US", "all", _cap_to_standard, {"Detection rule"}),
    "jurisdiction policy after release": (AccessLevel.EARLY, "CN", "all", _jurisdiction_generic, set()),
    "suspended after release": (AccessLevel.EARLY, "US", "all", _suspend, None),
}


@pytest.mark.django_db
@pytest.mark.parametrize("scenario", SCENARIOS.keys())
def test_token_sees_exactly_what_the_organisations_users_see_in_the_portal(
    scenario, client, advisory, make_partner, member_of, make_token, api_client_for, manager, nda, poc_addendum
):
    level, country, signed, after_release, expected_files = SCENARIOS[scenario]
    contracts = {"all": [nda, poc_addendum], "nda": [nda], "none": []}[signed]
    partner = make_partner(level=level, country=country, contracts=contracts)
    member = member_of(partner)
    _, secret = make_token(partner)
    for wave_level in (AccessLevel.EARLY, AccessLevel.STANDARD, AccessLevel.GENERIC):
        release(advisory, wave_level)
    unreleased = AdvisoryFactory()
    if after_release is not None:
        after_release(partner=partner, manager=manager, poc_addendum=poc_addendum)
    # The portal asks each person to acknowledge the handling terms once; the API (an organisation's machine) does not.
    HandlingAcknowledgementFactory(user=member, partner=partner, advisory=advisory)
    client.force_login(member)

    in_portal = _portal_sees(client, advisory, unreleased)
    through_api = _api_sees(api_client_for(secret), advisory, unreleased)

    assert through_api == in_portal
    if expected_files is None:
        assert in_portal["list"] == 403
    else:
        assert in_portal["files"] == expected_files
        assert in_portal["unreleased"] == 404


@pytest.mark.django_db
def test_token_answers_404_for_an_advisory_released_to_another_organisation(
    advisory, early_partner, make_partner, make_token, api_client_for
):
    release(advisory, AccessLevel.EARLY)
    outsider = make_partner(level=AccessLevel.EARLY, legal_name="Latecomer Ltd")
    api = api_client_for(make_token(outsider)[1])

    assert api.get(reverse("api:advisory", args=[advisory.identifier])).status_code == 404
    assert api.get(reverse("api:csaf", args=[advisory.identifier])).status_code == 404
    poc = advisory.artifacts.get(level=AccessLevel.EARLY)
    assert api.get(reverse("api:artifact", args=[advisory.identifier, poc.pk])).status_code == 404
    assert api.get(reverse("api:advisories")).json()["results"] == []


@pytest.mark.django_db
def test_unknown_advisory_file_and_address_answer_json_404(early_api, advisory):
    release(advisory, AccessLevel.EARLY)

    for url in (
        reverse("api:advisory", args=["FWN-1999-0001"]),
        reverse("api:artifact", args=[advisory.identifier, 999999]),
        "/api/v1/advisories/not-an-identifier/",
        "/api/v1/nothing-here/",
        "/api/v1/advisories/%0Anewline/",
    ):
        response = early_api.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/json", url


@pytest.mark.django_db
def test_suspension_refuses_the_token_at_once_before_any_permission_clean_up(
    early_api, advisory, early_partner, manager
):
    release(advisory, AccessLevel.EARLY)
    assert early_api.get(reverse("api:advisory", args=[advisory.identifier])).status_code == 200

    partner_services.suspend_partner(partner=early_partner, actor=manager, reason="Leak under investigation")

    assert early_partner.group.advisorygroupobjectpermission_set.exists()
    response = early_api.get(reverse("api:advisory", args=[advisory.identifier]))
    assert response.status_code == 403
    assert response.json() == {"detail": "Your organisation has no access to advisories at the moment."}


@pytest.mark.django_db
def test_reinstatement_restores_the_same_token(early_api, advisory, early_partner, manager):
    release(advisory, AccessLevel.EARLY)
    partner_services.suspend_partner(partner=early_partner, actor=manager, reason="Review")
    partner_services.reinstate_partner(partner=early_partner, actor=manager, reason="Cleared")

    assert early_api.get(reverse("api:advisory", args=[advisory.identifier])).status_code == 200


@pytest.mark.django_db
def test_token_access_ends_at_the_exact_second_the_agreement_expires(early_api, advisory, early_partner):
    release(advisory, AccessLevel.EARLY)
    expiry = timezone.now() + timedelta(hours=1)
    Agreement.objects.filter(partner=early_partner).update(valid_until=expiry)
    url = reverse("api:advisory", args=[advisory.identifier])

    with time_machine.travel(expiry - timedelta(seconds=1), tick=False):
        assert early_api.get(url).status_code == 200
    with time_machine.travel(expiry, tick=False):
        assert early_api.get(url).status_code == 403
