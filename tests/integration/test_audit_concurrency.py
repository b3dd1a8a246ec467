"""Appending to the audit log takes no global lock, so services that hold row locks and services that record audit
events, called at the same instant from threads on PostgreSQL, never deadlock; and the chain that the sequencer
builds from many concurrent appenders verifies."""

from datetime import timedelta

import pytest
from django.db import OperationalError, transaction
from django.utils import timezone

from compliance import services as compliance_services
from core.levels import AccessLevel
from core.models import AuditChainLink, AuditEvent
from core.selectors import verify_audit_chain
from core.services import link_audit_events, record_audit_event
from partners import services as partner_services
from partners.models import MemberRole, Partner, PartnerStatus
from tests.factories import ComplianceOfficerFactory, ContractVersionFactory, MembershipFactory
from tests.integration.concurrency import run_together

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROUNDS = 12


def _deadlocks(outcomes) -> list:
    return [o for o in outcomes if isinstance(o, OperationalError) and "deadlock" in str(o)]


@pytest.fixture
def officer(db):
    return ComplianceOfficerFactory()


def _organisation_with_admin(make_partner):
    partner = make_partner(level=AccessLevel.EARLY)
    admin = MembershipFactory(partner=partner, role=MemberRole.ADMIN).user
    return partner, admin


def _remove_while_creating_tokens(partner, admin, officer) -> list:
    def create_token(n):
        return lambda: partner_services.create_api_token(
            actor=admin, name=f"sync {n}", expires_at=timezone.now() + timedelta(days=30)
        )

    return run_together(
        lambda: partner_services.remove_partner(partner=partner, actor=officer, reason="Leaked an advisory."),
        create_token(1),
        create_token(2),
    )


def test_removing_an_organisation_while_its_admin_creates_api_tokens_never_deadlocks(make_partner, officer):
    for _ in range(ROUNDS):
        partner, admin = _organisation_with_admin(make_partner)

        outcomes = _remove_while_creating_tokens(partner, admin, officer)

        assert _deadlocks(outcomes) == []
        assert Partner.objects.get(pk=partner.pk).status == PartnerStatus.REMOVED


def _remove_and_suspend_while_signing(partner, admin, officer, version) -> list:
    def sign():
        return compliance_services.sign_agreement(
            user=admin,
            contract_version=version,
            signer_name="Alex Admin",
            signer_title="CISO",
            consent=True,
            shown_text_sha256=version.text_sha256,
        )

    return run_together(
        lambda: partner_services.remove_partner(partner=partner, actor=officer, reason="Leaked an advisory."),
        sign,
        lambda: partner_services.suspend_partner(partner=partner, actor=officer, reason="Under investigation."),
    )


def test_removing_an_organisation_while_its_admin_signs_an_agreement_never_deadlocks(make_partner, officer):
    version = ContractVersionFactory(contract_key="dpa", title="Data processing addendum", text="We process data.")
    for _ in range(ROUNDS):
        partner, admin = _organisation_with_admin(make_partner)

        outcomes = _remove_and_suspend_while_signing(partner, admin, officer, version)

        assert _deadlocks(outcomes) == []
        assert Partner.objects.get(pk=partner.pk).status in (PartnerStatus.REMOVED, PartnerStatus.SUSPENDED)


APPENDERS = 8
EVENTS_EACH = 25


def test_the_chain_stays_valid_with_many_concurrent_appenders_and_sequencers():
    def append(worker: int):
        def run():
            for n in range(EVENTS_EACH):
                with transaction.atomic():
                    record_audit_event(actor=None, action="test.concurrent", details={"worker": worker, "n": n})
                    if n % 5 == 0:
                        record_audit_event(actor=None, action="test.concurrent.second", details={"worker": worker})

        return run

    def sequencer():
        return sum(link_audit_events() for _ in range(20))

    outcomes = run_together(*[append(worker) for worker in range(APPENDERS)], sequencer, sequencer)
    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    link_audit_events()

    events = AuditEvent.objects.count()
    assert events == APPENDERS * (EVENTS_EACH + EVENTS_EACH // 5)
    assert list(AuditChainLink.objects.order_by("position").values_list("position", flat=True)) == list(
        range(1, events + 1)
    )
    report = verify_audit_chain()
    assert report.intact, report.problems
    assert (report.checked, report.pending) == (events, 0)
