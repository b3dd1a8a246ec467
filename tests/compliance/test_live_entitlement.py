"""The live check every partner page and API request makes (`partner_access`, `token_access`): the same rule and
the same level as `effective_levels`, the release fan-out's reading of the same facts, in one query with the
membership, whatever the number of agreements, policies and enforcement actions; on the database clock, the
instant is the database's, read in that same query."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compliance.entitlements import effective_level, effective_levels, partner_access
from core.clock import embargo_now
from core.levels import AccessLevel
from partners.models import Partner, PartnerStatus
from tests.factories import (
    AgreementFactory,
    ContractVersionFactory,
    JurisdictionPolicyFactory,
    LevelCapFactory,
    MembershipFactory,
    PartnerFactory,
)

NONE, GENERIC, STANDARD, EARLY = AccessLevel.NONE, AccessLevel.GENERIC, AccessLevel.STANDARD, AccessLevel.EARLY


def _facts_of_every_kind(nda, poc_addendum, now):
    """Partners across the rule's inputs: statuses, agreements (valid, expired, future, an old contract version
    within and past its re-sign deadline), jurisdiction caps (in force, future, lifted), enforcement caps (in
    force, ended, future). Returns the memberships, one per partner."""
    nda_v2 = ContractVersionFactory(
        contract_key="nda",
        version=2,
        required_from_level=GENERIC,
        effective_at=now - timedelta(days=2),
        previous_versions_valid_until=now + timedelta(days=5),
    )
    JurisdictionPolicyFactory(country="CN", cap_level=GENERIC, effective_at=now - timedelta(days=5))
    JurisdictionPolicyFactory(country="RU", cap_level=NONE, effective_at=now + timedelta(days=5))
    JurisdictionPolicyFactory(country="IR", cap_level=GENERIC, effective_at=now - timedelta(days=50))
    JurisdictionPolicyFactory(country="IR", cap_level=STANDARD, effective_at=now - timedelta(days=5))
    valid = {"signed_at": now - timedelta(days=10), "valid_until": now + timedelta(days=300)}
    members = []
    for status in (PartnerStatus.ACTIVE, PartnerStatus.SUSPENDED):
        for country in ("US", "CN", "RU", "IR"):
            for agreements in ("both", "nda", "expired nda", "future nda", "old nda version", "none"):
                for cap in ("none", "standard now", "generic ended", "generic later"):
                    partner = PartnerFactory(assigned_level=EARLY, country=country, status=status)
                    members.append(MembershipFactory(partner=partner))
                    if agreements in ("both", "nda"):
                        AgreementFactory(partner=partner, contract_version=nda_v2, **valid)
                    if agreements == "both":
                        AgreementFactory(partner=partner, contract_version=poc_addendum, **valid)
                    if agreements == "expired nda":
                        AgreementFactory(
                            partner=partner,
                            contract_version=nda_v2,
                            signed_at=now - timedelta(days=400),
                            valid_until=now - timedelta(seconds=1),
                        )
                    if agreements == "future nda":
                        AgreementFactory(partner=partner, contract_version=nda_v2, signed_at=now + timedelta(hours=1))
                    if agreements == "old nda version":
                        AgreementFactory(partner=partner, contract_version=nda, **valid)
                        AgreementFactory(partner=partner, contract_version=poc_addendum, **valid)
                    if cap == "standard now":
                        LevelCapFactory(partner=partner, cap_level=STANDARD, starts_at=now - timedelta(days=1))
                    if cap == "generic ended":
                        LevelCapFactory(
                            partner=partner,
                            cap_level=GENERIC,
                            starts_at=now - timedelta(days=9),
                            ends_at=now - timedelta(days=1),
                        )
                    if cap == "generic later":
                        LevelCapFactory(partner=partner, cap_level=GENERIC, starts_at=now + timedelta(days=1))
    return members


@pytest.mark.django_db
def test_the_live_check_gives_every_partner_the_level_the_fan_out_computes(nda, poc_addendum):
    now = timezone.now()
    members = _facts_of_every_kind(nda, poc_addendum, now)
    for at in (now, now + timedelta(days=6)):  # and after the old version's re-sign deadline and the future policy
        expected = effective_levels(Partner.objects.all(), at)

        live = {member.partner_id: partner_access(member.user, at).level for member in members}

        assert live == expected
        assert {pk: effective_level(Partner(pk=pk), at) for pk in expected} == expected
        assert len(set(expected.values())) == 4  # every level occurs: the cases are not all alike


@pytest.mark.django_db
def test_the_live_check_is_one_query_whatever_the_facts(nda, poc_addendum, make_partner, member_of):
    now = timezone.now()
    partner = make_partner(level=EARLY, country="CN")
    member = member_of(partner)
    for days in range(5):
        AgreementFactory(partner=partner, contract_version=nda, signed_at=now - timedelta(days=400 + days))
        LevelCapFactory(partner=partner, cap_level=STANDARD, starts_at=now - timedelta(days=days + 1))
        JurisdictionPolicyFactory(country="CN", cap_level=STANDARD, effective_at=now - timedelta(days=days + 1))

    with CaptureQueriesContext(connection) as queries:
        access = partner_access(member)

    assert access.level == STANDARD
    assert len(queries) == 1


@pytest.mark.django_db
def test_on_the_database_clock_the_live_check_judges_at_the_databases_instant_in_the_same_query(
    settings, nda, poc_addendum, member_of
):
    if connection.vendor != "postgresql":
        pytest.skip("the database clock is PostgreSQL's")
    settings.FOREWARN_EMBARGO_CLOCK = "database"
    database_now = embargo_now()
    partner = PartnerFactory(assigned_level=EARLY)
    AgreementFactory(partner=partner, contract_version=nda, valid_until=database_now + timedelta(seconds=30))
    AgreementFactory(partner=partner, contract_version=poc_addendum)
    member = member_of(partner)

    # This node's clock is 60 s fast: by it the NDA has expired; by the database's it has not.
    with (
        time_machine.travel(database_now + timedelta(seconds=60), tick=True),
        CaptureQueriesContext(connection) as queries,
    ):
        access = partner_access(member)

    assert access.level == EARLY
    assert len(queries) == 1
