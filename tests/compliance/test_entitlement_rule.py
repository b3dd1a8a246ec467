"""The entitlement rule itself, without the database: the pure functions of compliance/entitlements.py over plain
values and unsaved model instances. test_effective_level.py checks the same rule end to end, facts read from the
database."""

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from compliance.entitlements import (
    EntitlementFacts,
    SignedAgreement,
    compute_effective_level,
    covered_until,
    enforcement_cap,
    jurisdiction_cap,
)
from compliance.models import ContractVersion, EnforcementAction, EnforcementKind, JurisdictionPolicy
from core.levels import AccessLevel
from partners.models import PartnerStatus

NONE, GENERIC, STANDARD, EARLY = AccessLevel.NONE, AccessLevel.GENERIC, AccessLevel.STANDARD, AccessLevel.EARLY
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
LEVELS = [NONE, GENERIC, STANDARD, EARLY]


@pytest.mark.parametrize("status", list(PartnerStatus))
def test_effective_level_is_the_lowest_of_the_assigned_level_and_every_cap_for_an_active_partner_only(status):
    for assigned, contracts, jurisdiction, enforcement in product(LEVELS, repeat=4):
        level = compute_effective_level(
            status=status,
            assigned_level=assigned,
            contract_cap=contracts,
            jurisdiction_cap=jurisdiction,
            enforcement_cap=enforcement,
        )

        expected = min(assigned, contracts, jurisdiction, enforcement) if status == PartnerStatus.ACTIVE else NONE
        assert level == expected
        assert isinstance(level, AccessLevel)


def _policy(country, cap, days_ago):
    return JurisdictionPolicy(country=country, cap_level=cap, effective_at=NOW - timedelta(days=days_ago))


def test_no_policy_for_the_country_means_no_jurisdiction_cap():
    policies = [_policy("CN", GENERIC, days_ago=5)]

    assert jurisdiction_cap(policies=[], country="DE", at=NOW) == EARLY
    assert jurisdiction_cap(policies=policies, country="DE", at=NOW) == EARLY


def test_the_newest_policy_in_force_for_the_country_sets_the_jurisdiction_cap():
    policies = [_policy("CN", GENERIC, days_ago=50), _policy("CN", STANDARD, days_ago=5), _policy("CN", NONE, -1)]

    assert jurisdiction_cap(policies=policies, country="CN", at=NOW) == STANDARD
    assert jurisdiction_cap(policies=policies, country="CN", at=NOW - timedelta(days=10)) == GENERIC
    assert jurisdiction_cap(policies=policies, country="CN", at=NOW + timedelta(days=2)) == NONE


def test_a_newer_early_policy_lifts_an_earlier_cap():
    policies = [_policy("CN", GENERIC, days_ago=50), _policy("CN", EARLY, days_ago=5)]

    assert jurisdiction_cap(policies=policies, country="CN", at=NOW) == EARLY


def _action(kind, cap=None, *, starts_days_ago=10, ends_in_days=None):
    ends_at = None if ends_in_days is None else NOW + timedelta(days=ends_in_days)
    return EnforcementAction(kind=kind, cap_level=cap, starts_at=NOW - timedelta(days=starts_days_ago), ends_at=ends_at)


def test_the_lowest_level_cap_in_force_sets_the_enforcement_cap():
    actions = [
        _action(EnforcementKind.LEVEL_CAP, STANDARD),
        _action(EnforcementKind.LEVEL_CAP, GENERIC, ends_in_days=3),
    ]

    assert enforcement_cap(actions=actions, at=NOW) == GENERIC
    assert enforcement_cap(actions=actions, at=NOW + timedelta(days=3)) == STANDARD


def test_level_caps_not_yet_started_or_ended_and_other_actions_do_not_cap():
    actions = [
        _action(EnforcementKind.LEVEL_CAP, GENERIC, starts_days_ago=-1),
        _action(EnforcementKind.LEVEL_CAP, GENERIC, ends_in_days=0),
        _action(EnforcementKind.WARNING),
        _action(EnforcementKind.SUSPENSION),
    ]

    assert enforcement_cap(actions=[], at=NOW) == EARLY
    assert enforcement_cap(actions=actions, at=NOW) == EARLY


def _signed(version, valid_until):
    return SignedAgreement(
        contract_key="nda", version=version, signed_at=NOW - timedelta(days=30), valid_until=valid_until
    )


def test_an_agreement_to_an_older_version_covers_until_the_resign_deadline_or_its_expiry_whichever_is_first():
    deadline = NOW + timedelta(days=30)
    required = ContractVersion(contract_key="nda", version=2, previous_versions_valid_until=deadline)

    assert covered_until(required=required, agreement=_signed(2, NOW + timedelta(days=300))) == NOW + timedelta(300)
    assert covered_until(required=required, agreement=_signed(1, NOW + timedelta(days=300))) == deadline
    assert covered_until(required=required, agreement=_signed(1, NOW + timedelta(days=10))) == NOW + timedelta(10)


def test_an_agreement_to_an_older_version_without_a_resign_deadline_or_to_another_contract_never_covers():
    required = ContractVersion(contract_key="nda", version=2, previous_versions_valid_until=None)
    other_contract = SignedAgreement(
        contract_key="poc-addendum", version=2, signed_at=NOW, valid_until=NOW + timedelta(days=300)
    )

    assert covered_until(required=required, agreement=_signed(1, NOW + timedelta(days=300))) is None
    assert covered_until(required=required, agreement=other_contract) is None


def _facts(status=PartnerStatus.ACTIVE, assigned=EARLY, contracts=EARLY, jurisdiction=EARLY, enforcement=EARLY):
    level = compute_effective_level(
        status=status,
        assigned_level=assigned,
        contract_cap=contracts,
        jurisdiction_cap=jurisdiction,
        enforcement_cap=enforcement,
    )
    return EntitlementFacts(status, assigned, contracts, jurisdiction, enforcement, level)


def test_the_reasons_below_a_level_name_every_input_that_keeps_the_partner_under_it():
    facts = _facts(assigned=STANDARD, contracts=GENERIC, jurisdiction=STANDARD)

    assert facts.reasons_below(STANDARD) == ["contracts unsigned or expired: capped at generic"]
    assert facts.reasons_below(EARLY) == [
        "assigned level is standard",
        "contracts unsigned or expired: capped at generic",
        "jurisdiction policy caps at standard",
    ]
    assert facts.reasons_below(GENERIC) == []


def test_an_inactive_partner_falls_short_only_because_of_its_status():
    facts = _facts(status=PartnerStatus.SUSPENDED, contracts=NONE)

    assert facts.reasons_below(GENERIC) == ["organisation is suspended"]
