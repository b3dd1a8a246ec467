"""The entitlement rule of docs/design.md, over every combination of status, agreements, assigned level and
jurisdiction cap, plus the edges of time (expiry second, policy versions, re-sign deadlines, enforcement caps)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from compliance.entitlements import SignedAgreement, contract_cap, effective_level
from compliance.models import ContractVersion
from core.levels import AccessLevel
from partners.models import PartnerStatus
from tests.factories import (
    AgreementFactory,
    ContractVersionFactory,
    JurisdictionPolicyFactory,
    LevelCapFactory,
    PartnerFactory,
)

NONE, GENERIC, STANDARD, EARLY = AccessLevel.NONE, AccessLevel.GENERIC, AccessLevel.STANDARD, AccessLevel.EARLY

# What the partner's agreements allow, written out by hand for each state the cases below set up.
AGREEMENT_STATES = {
    "no agreement": NONE,
    "nda only": STANDARD,
    "nda and poc addendum": EARLY,
    "nda expired, poc addendum valid": NONE,
    "poc addendum only": NONE,
}
JURISDICTION_CAPS = {"no policy": EARLY, "capped generic": GENERIC, "capped standard": STANDARD, "cap lifted": EARLY}


def _sign(partner, state, nda, poc_addendum, now):
    valid = {"signed_at": now - timedelta(days=10), "valid_until": now + timedelta(days=300)}
    expired = {"signed_at": now - timedelta(days=400), "valid_until": now - timedelta(seconds=1)}
    if state in ("nda only", "nda and poc addendum"):
        AgreementFactory(partner=partner, contract_version=nda, **valid)
    if state == "nda expired, poc addendum valid":
        AgreementFactory(partner=partner, contract_version=nda, **expired)
    if state in ("nda and poc addendum", "nda expired, poc addendum valid", "poc addendum only"):
        AgreementFactory(partner=partner, contract_version=poc_addendum, **valid)


def _set_jurisdiction(country, cap, now):
    if cap == "capped generic":
        JurisdictionPolicyFactory(country=country, cap_level=GENERIC, effective_at=now - timedelta(days=5))
    elif cap == "capped standard":
        JurisdictionPolicyFactory(country=country, cap_level=STANDARD, effective_at=now - timedelta(days=5))
    elif cap == "cap lifted":
        JurisdictionPolicyFactory(country=country, cap_level=GENERIC, effective_at=now - timedelta(days=50))
        JurisdictionPolicyFactory(country=country, cap_level=EARLY, effective_at=now - timedelta(days=5))


@pytest.mark.django_db
@pytest.mark.parametrize("status", list(PartnerStatus))
@pytest.mark.parametrize("agreements", list(AGREEMENT_STATES))
@pytest.mark.parametrize("assigned", [GENERIC, STANDARD, EARLY])
@pytest.mark.parametrize("jurisdiction", list(JURISDICTION_CAPS))
def test_effective_level_is_the_minimum_of_every_cap_when_active_and_none_otherwise(
    nda, poc_addendum, status, agreements, assigned, jurisdiction
):
    now = timezone.now()
    country = "NO"
    partner = PartnerFactory(assigned_level=assigned, country=country, status=status)
    _sign(partner, agreements, nda, poc_addendum, now)
    _set_jurisdiction(country, jurisdiction, now)

    expected = (
        NONE
        if status != PartnerStatus.ACTIVE
        else min(assigned, AGREEMENT_STATES[agreements], JURISDICTION_CAPS[jurisdiction])
    )
    assert effective_level(partner, now) == expected


@pytest.mark.django_db
def test_effective_level_drops_to_none_at_the_exact_second_an_agreement_expires(nda, poc_addendum):
    now = timezone.now()
    partner = PartnerFactory(assigned_level=EARLY)
    AgreementFactory(partner=partner, contract_version=nda, signed_at=now - timedelta(days=1), valid_until=now)
    AgreementFactory(partner=partner, contract_version=poc_addendum, signed_at=now - timedelta(days=1))

    assert effective_level(partner, now - timedelta(microseconds=1)) == EARLY
    assert effective_level(partner, now) == NONE


@pytest.mark.django_db
def test_effective_level_ignores_an_agreement_signed_after_the_instant_asked_about(nda):
    now = timezone.now()
    partner = PartnerFactory(assigned_level=STANDARD)
    AgreementFactory(partner=partner, contract_version=nda, signed_at=now)

    assert effective_level(partner, now - timedelta(seconds=1)) == NONE
    assert effective_level(partner, now) == STANDARD


@pytest.mark.django_db
def test_jurisdiction_policy_applies_from_its_effective_time(nda):
    now = timezone.now()
    partner = PartnerFactory(assigned_level=STANDARD, country="CN")
    AgreementFactory(partner=partner, contract_version=nda, signed_at=now - timedelta(days=30))
    JurisdictionPolicyFactory(country="CN", cap_level=GENERIC, effective_at=now)

    assert effective_level(partner, now - timedelta(seconds=1)) == STANDARD
    assert effective_level(partner, now) == GENERIC


@pytest.mark.django_db
def test_jurisdiction_policy_of_another_country_does_not_cap(nda):
    partner = PartnerFactory(assigned_level=STANDARD, country="DE")
    AgreementFactory(partner=partner, contract_version=nda)
    JurisdictionPolicyFactory(country="CN", cap_level=NONE)

    assert effective_level(partner) == STANDARD


@pytest.mark.django_db
def test_enforcement_level_cap_applies_only_while_in_force(nda, poc_addendum):
    now = timezone.now()
    partner = PartnerFactory(assigned_level=EARLY)
    AgreementFactory(partner=partner, contract_version=nda)
    AgreementFactory(partner=partner, contract_version=poc_addendum)
    LevelCapFactory(partner=partner, cap_level=STANDARD, starts_at=now, ends_at=now + timedelta(days=180))

    assert effective_level(partner, now - timedelta(seconds=1)) == EARLY
    assert effective_level(partner, now) == STANDARD
    assert effective_level(partner, now + timedelta(days=180)) == EARLY


@pytest.mark.django_db
def test_the_lowest_of_several_enforcement_caps_wins(nda, poc_addendum):
    partner = PartnerFactory(assigned_level=EARLY)
    AgreementFactory(partner=partner, contract_version=nda)
    AgreementFactory(partner=partner, contract_version=poc_addendum)
    LevelCapFactory(partner=partner, cap_level=STANDARD)
    LevelCapFactory(partner=partner, cap_level=GENERIC)

    assert effective_level(partner) == GENERIC


@pytest.mark.django_db
def test_no_contract_versions_means_no_contract_cap():
    partner = PartnerFactory(assigned_level=EARLY)

    assert effective_level(partner) == EARLY


@pytest.mark.django_db
def test_a_new_contract_version_needs_resigning_after_its_deadline(nda):
    now = timezone.now()
    partner = PartnerFactory(assigned_level=STANDARD)
    AgreementFactory(partner=partner, contract_version=nda, signed_at=now - timedelta(days=60))
    ContractVersionFactory(
        contract_key="nda",
        version=2,
        effective_at=now - timedelta(days=1),
        previous_versions_valid_until=now + timedelta(days=30),
    )

    assert effective_level(partner, now) == STANDARD
    assert effective_level(partner, now + timedelta(days=30)) == NONE


@pytest.mark.django_db
def test_a_new_contract_version_without_deadline_replaces_the_old_one_when_it_takes_effect(nda):
    now = timezone.now()
    partner = PartnerFactory(assigned_level=STANDARD)
    AgreementFactory(partner=partner, contract_version=nda, signed_at=now - timedelta(days=60))
    ContractVersionFactory(contract_key="nda", version=2, effective_at=now)

    assert effective_level(partner, now - timedelta(seconds=1)) == STANDARD
    assert effective_level(partner, now) == NONE


def test_contract_cap_is_the_highest_level_whose_requirements_are_all_held():
    now = timezone.now()
    nda = ContractVersion(contract_key="nda", version=1, effective_at=now, required_from_level=GENERIC)
    addendum = ContractVersion(contract_key="addendum", version=1, effective_at=now, required_from_level=STANDARD)
    poc = ContractVersion(contract_key="poc", version=1, effective_at=now, required_from_level=EARLY)
    versions = [nda, addendum, poc]

    def signed(*keys):
        return [SignedAgreement(key, 1, now, now + timedelta(days=1)) for key in keys]

    assert contract_cap(versions=versions, agreements=signed(), at=now) == NONE
    assert contract_cap(versions=versions, agreements=signed("nda"), at=now) == GENERIC
    assert contract_cap(versions=versions, agreements=signed("nda", "addendum"), at=now) == STANDARD
    assert contract_cap(versions=versions, agreements=signed("nda", "poc"), at=now) == GENERIC
    assert contract_cap(versions=versions, agreements=signed("nda", "addendum", "poc"), at=now) == EARLY
