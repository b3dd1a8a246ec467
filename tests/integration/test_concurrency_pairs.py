"""Services that change the same organisation, agreement, appeal or release plan, called at the same instant from
threads on PostgreSQL: each pair ends in a legal state, nothing is done after the removal (or deactivation, or
supersession) it raced with, and no deadlock or IntegrityError reaches a caller; a service may refuse with its
normal message. The lock order they follow is in docs/architecture.md, "Locks"."""

from datetime import timedelta
from functools import partial

import pytest
from django.utils import timezone

from advisories import services as advisory_services
from advisories.models import Delivery, ReleaseWave, WaveStatus
from compliance import services as compliance_services
from compliance.models import Agreement, Appeal, AppealStatus, ContractVersion, ViolationStatus
from core.levels import AccessLevel
from partners import services as partner_services
from partners import tokens
from partners.models import (
    ApplicationStatus,
    Invitation,
    MemberRole,
    Partner,
    PartnerApplication,
    PartnerMembership,
    PartnerStatus,
)
from tests.factories import (
    ComplianceOfficerFactory,
    ContractVersionFactory,
    MembershipFactory,
    PartnerApplicationFactory,
    PartnerDomainFactory,
    ProgramManagerFactory,
    ViolationFactory,
)
from tests.integration.concurrency import failures, recorded_after, refusals, run_together, successes

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROUNDS = 6
PASSWORD = "correct horse battery staple 42"


@pytest.fixture
def officer(db):
    return ComplianceOfficerFactory()


@pytest.fixture
def manager(db):
    return ProgramManagerFactory()


@pytest.fixture
def organisation(make_partner):
    """A new active organisation, with a registered domain and one partner admin, for each round."""

    def make():
        partner = make_partner(level=AccessLevel.EARLY)
        domain = PartnerDomainFactory(partner=partner).domain
        admin = MembershipFactory(partner=partner, role=MemberRole.ADMIN, user__email=f"admin@{domain}").user
        return partner, admin, domain

    return make


def _remove(partner, officer):
    return partial(partner_services.remove_partner, partner=partner, actor=officer, reason="Leaked an advisory.")


def _sign(admin, version):
    return partial(
        compliance_services.sign_agreement,
        user=admin,
        contract_version=version,
        signer_name="Alex Admin",
        signer_title="CISO",
        consent=True,
        shown_text_sha256=version.text_sha256,
    )


def _invite(partner, actor, email):
    return partner_services.invite_member(partner=partner, actor=actor, email=email, role=MemberRole.ANALYST)


def _accept(invitation):
    token = tokens.invitation_token(invitation)
    return partial(partner_services.accept_invitation, token=token, password=PASSWORD)


# The organisation and its rows ----------------------------------------------------------------------------------


def test_no_agreement_is_signed_after_the_organisation_is_removed(organisation, officer):
    version = ContractVersionFactory(contract_key="dpa", title="Data processing addendum", text="We process data.")
    for _ in range(ROUNDS):
        partner, admin, _domain = organisation()

        outcomes = run_together(_remove(partner, officer), _sign(admin, version), _sign(admin, version))

        assert failures(outcomes) == []
        assert Partner.objects.get(pk=partner.pk).status == PartnerStatus.REMOVED
        assert recorded_after("partner.removed", target=partner, actions=["agreement.signed"]) == []


def test_no_api_token_is_created_after_the_organisation_is_removed(organisation, officer):
    def create_token(admin, n):
        return partial(
            partner_services.create_api_token,
            actor=admin,
            name=f"sync {n}",
            expires_at=timezone.now() + timedelta(days=30),
        )

    for _ in range(ROUNDS):
        partner, admin, _domain = organisation()

        outcomes = run_together(_remove(partner, officer), create_token(admin, 1), create_token(admin, 2))

        assert failures(outcomes) == []
        assert not partner.api_tokens.filter(revoked_at__isnull=True).exists()


def test_no_member_is_added_after_the_organisation_is_removed(organisation, officer, manager):
    for _ in range(ROUNDS):
        partner, _admin, domain = organisation()

        outcomes = run_together(
            _remove(partner, officer),
            partial(
                partner_services.add_member,
                actor=manager,
                partner=partner,
                email=f"new@{domain}",
                role=MemberRole.ANALYST,
            ),
        )

        assert failures(outcomes) == []
        assert not partner.memberships.filter(is_active=True).exists()


def test_an_invitation_is_not_accepted_after_the_organisation_is_removed(organisation, officer):
    for _ in range(ROUNDS):
        partner, admin, domain = organisation()
        invitation = _invite(partner, admin, f"analyst@{domain}")

        outcomes = run_together(_remove(partner, officer), _accept(invitation))

        assert failures(outcomes) == []
        assert not partner.memberships.filter(is_active=True).exists()
        assert recorded_after("partner.removed", target=partner, actions=["partner.invitation_accepted"]) == []


def test_an_invitation_is_either_accepted_or_withdrawn_when_both_happen_at_once(organisation):
    for _ in range(ROUNDS):
        partner, admin, domain = organisation()
        invitation = _invite(partner, admin, f"analyst@{domain}")

        outcomes = run_together(
            _accept(invitation), partial(partner_services.revoke_invitation, invitation=invitation, actor=admin)
        )

        assert failures(outcomes) == []
        assert len(successes(outcomes)) == 1
        invitation.refresh_from_db()
        joined = PartnerMembership.objects.filter(partner=partner, user__email=invitation.email, is_active=True)
        if invitation.accepted_at:
            assert invitation.revoked_at is None and joined.exists()
        else:
            assert invitation.revoked_at is not None and not joined.exists()


def test_one_invitation_accepted_twice_at_once_makes_one_member(organisation):
    for _ in range(ROUNDS):
        partner, admin, domain = organisation()
        invitation = _invite(partner, admin, f"analyst@{domain}")

        outcomes = run_together(_accept(invitation), _accept(invitation))

        assert failures(outcomes) == []
        assert len(successes(outcomes)) == 1
        assert PartnerMembership.objects.filter(partner=partner, user__email=invitation.email).count() == 1


def test_a_deactivated_admin_invites_nobody_after_the_deactivation(organisation):
    for round_ in range(ROUNDS):
        partner, admin, domain = organisation()
        colleague = MembershipFactory(partner=partner, role=MemberRole.ADMIN, user__email=f"second@{domain}")

        outcomes = run_together(
            partial(partner_services.deactivate_member, membership=admin.membership, actor=colleague.user),
            partial(_invite, partner, admin, f"invitee{round_}@{domain}"),
        )

        assert failures(outcomes) == []
        assert recorded_after("partner.member_deactivated", target=partner, actions=["partner.member_invited"]) == []


def test_two_admins_deactivating_each_other_at_once_leave_one_admin(organisation):
    for _ in range(ROUNDS):
        partner, admin, domain = organisation()
        colleague = MembershipFactory(partner=partner, role=MemberRole.ADMIN, user__email=f"second@{domain}")

        outcomes = run_together(
            partial(partner_services.deactivate_member, membership=admin.membership, actor=colleague.user),
            partial(partner_services.deactivate_member, membership=colleague, actor=admin),
        )

        assert failures(outcomes) == []
        assert len(successes(outcomes)) == 1
        assert partner.memberships.filter(role=MemberRole.ADMIN, is_active=True).count() == 1


def test_two_invitations_of_one_address_at_once_hold_one_seat(organisation):
    for _ in range(ROUNDS):
        partner, admin, domain = organisation()
        email = f"analyst@{domain}"

        outcomes = run_together(partial(_invite, partner, admin, email), partial(_invite, partner, admin, email))

        assert failures(outcomes) == []
        assert Invitation.objects.filter(partner=partner, email=email).count() == 1


# Standing and enforcement -------------------------------------------------------------------------------------


def test_suspending_and_removing_at_once_ends_removed(organisation, officer, manager):
    for _ in range(ROUNDS):
        partner, _admin, _domain = organisation()

        outcomes = run_together(
            _remove(partner, officer),
            partial(partner_services.suspend_partner, partner=partner, actor=manager, reason="Under investigation."),
        )

        assert failures(outcomes) == []
        assert Partner.objects.get(pk=partner.pk).status == PartnerStatus.REMOVED


def test_no_warning_is_issued_after_the_organisation_is_removed(organisation, officer):
    for _ in range(ROUNDS):
        partner, _admin, _domain = organisation()
        violation = ViolationFactory(partner=partner, status=ViolationStatus.SUBSTANTIATED)

        outcomes = run_together(
            _remove(partner, officer),
            partial(compliance_services.issue_warning, violation=violation, actor=officer, reason="Second leak."),
        )

        assert failures(outcomes) == []
        assert recorded_after("partner.removed", target=partner, actions=["enforcement.warning"]) == []


def test_no_suspension_follows_the_closing_of_its_violation(organisation, officer):
    for _ in range(ROUNDS):
        partner, _admin, _domain = organisation()
        violation = ViolationFactory(partner=partner, status=ViolationStatus.SUBSTANTIATED)

        outcomes = run_together(
            partial(compliance_services.close_violation, violation=violation, actor=officer, note="Settled."),
            partial(compliance_services.suspend_for_violation, violation=violation, actor=officer, reason="Leak."),
        )

        assert failures(outcomes) == []
        assert recorded_after("violation.closed", target=violation, actions=["enforcement.suspension"]) == []


def _suspended_with_pending_appeal(organisation, officer):
    partner, admin, _domain = organisation()
    violation = ViolationFactory(partner=partner, status=ViolationStatus.SUBSTANTIATED)
    action = compliance_services.suspend_for_violation(violation=violation, actor=officer, reason="Leak.")
    appeal = compliance_services.file_appeal(actor=admin, action=action, statement="The leak was not ours.")
    return partner, admin, violation, action, appeal


def test_filing_an_appeal_while_the_last_one_is_decided_leaves_at_most_one_pending(organisation, officer):
    for _ in range(ROUNDS):
        _partner, admin, _violation, action, appeal = _suspended_with_pending_appeal(organisation, officer)

        outcomes = run_together(
            partial(compliance_services.decide_appeal, actor=officer, appeal=appeal, overturn=True, decision="Agreed."),
            partial(compliance_services.file_appeal, actor=admin, action=action, statement="And again."),
        )

        assert failures(outcomes) == []
        assert Appeal.objects.filter(action=action, status=AppealStatus.FILED).count() <= 1
        assert Appeal.objects.get(pk=appeal.pk).status == AppealStatus.OVERTURNED


def test_overturning_a_suspension_while_it_is_reinstated_reinstates_once(organisation, officer):
    for _ in range(ROUNDS):
        partner, _admin, violation, action, appeal = _suspended_with_pending_appeal(organisation, officer)

        outcomes = run_together(
            partial(compliance_services.decide_appeal, actor=officer, appeal=appeal, overturn=True, decision="Agreed."),
            partial(compliance_services.reinstate_for_violation, violation=violation, actor=officer, reason="Done."),
        )

        assert failures(outcomes) == []
        assert Partner.objects.get(pk=partner.pk).status == PartnerStatus.ACTIVE
        action.refresh_from_db()
        assert action.ends_at is not None
        assert recorded_after("partner.reinstated", target=partner, actions=["partner.reinstated"]) == []


# Contracts --------------------------------------------------------------------------------------------------------


def _publish(manager, version, effective_at):
    return partial(
        compliance_services.publish_contract_version,
        actor=manager,
        contract_key="dpa",
        title="Data processing addendum",
        version=version,
        text=f"We process data (version {version}).",
        effective_at=effective_at,
        required_from_level=AccessLevel.GENERIC,
    )


def test_a_version_superseded_at_the_same_instant_is_not_signed_after_it(organisation, manager):
    ContractVersionFactory(contract_key="dpa", title="Data processing addendum", text="We process data.")
    for round_ in range(ROUNDS):
        _partner, admin, _domain = organisation()
        current = ContractVersion.objects.filter(contract_key="dpa").order_by("-version").first()

        outcomes = run_together(
            _publish(manager, current.version + 1, timezone.now() - timedelta(seconds=1)),
            _sign(admin, current),
            _sign(admin, current),
        )

        assert failures(outcomes) == [], round_
        newest = ContractVersion.objects.get(contract_key="dpa", version=current.version + 1)
        assert recorded_after("contract.published", target=newest, actions=["agreement.signed"]) == []


def test_one_version_number_published_twice_at_once_is_published_once(manager):
    for round_ in range(1, ROUNDS + 1):
        outcomes = run_together(_publish(manager, round_, timezone.now()), _publish(manager, round_, timezone.now()))

        assert failures(outcomes) == []
        assert len(successes(outcomes)) == 1
        assert ContractVersion.objects.filter(contract_key="dpa", version=round_).count() == 1


def test_two_admins_signing_at_once_both_sign(organisation):
    version = ContractVersionFactory(contract_key="dpa", title="Data processing addendum", text="We process data.")
    for _ in range(ROUNDS):
        partner, admin, domain = organisation()
        colleague = MembershipFactory(partner=partner, role=MemberRole.ADMIN, user__email=f"second@{domain}").user

        outcomes = run_together(_sign(admin, version), _sign(colleague, version))

        assert failures(outcomes) == [] and refusals(outcomes) == []
        assert Agreement.objects.filter(partner=partner, contract_version=version).count() == 2


# Applications -----------------------------------------------------------------------------------------------------


def _under_review(**fields):
    checklist = {key: {"by": "manager@example.test", "at": "2026-12-01T00:00:00+00:00"} for key in _checklist()}
    return PartnerApplicationFactory(status=ApplicationStatus.UNDER_REVIEW, checklist=checklist, **fields)


def _checklist():
    from partners.models import DUE_DILIGENCE_CHECKLIST

    return DUE_DILIGENCE_CHECKLIST


def _approve(application, manager):
    return partial(
        partner_services.approve_application,
        application=application,
        actor=manager,
        assigned_level=AccessLevel.STANDARD,
        max_level=AccessLevel.EARLY,
    )


def test_an_application_approved_and_rejected_at_once_gets_one_decision(manager):
    for _ in range(ROUNDS):
        application = _under_review()

        outcomes = run_together(
            _approve(application, manager),
            partial(partner_services.reject_application, application=application, actor=manager, reason="No."),
        )

        assert failures(outcomes) == []
        assert len(successes(outcomes)) == 1
        application.refresh_from_db()
        assert (application.status == ApplicationStatus.APPROVED) == Partner.objects.filter(
            application=application
        ).exists()


def test_two_applications_of_one_organisation_approved_at_once_make_one_partner(manager):
    for round_ in range(ROUNDS):
        first = _under_review(legal_name=f"Twin {round_} Security AB")
        second = _under_review(legal_name=f"Twin {round_} Security AB")

        outcomes = run_together(_approve(first, manager), _approve(second, manager))

        assert failures(outcomes) == []
        assert Partner.objects.filter(legal_name=f"Twin {round_} Security AB").count() == 1
        assert (
            PartnerApplication.objects.filter(status=ApplicationStatus.APPROVED, legal_name=first.legal_name).count()
            == 1
        )


# Release plans ----------------------------------------------------------------------------------------------------


def test_moving_a_release_plan_while_its_due_wave_releases_never_deadlocks(manager, make_partner):
    make_partner(level=AccessLevel.EARLY)
    for _ in range(ROUNDS):
        now = timezone.now()
        advisory = advisory_services.create_advisory(
            actor=manager, title="Race", public_release_at=now + timedelta(days=3)
        )
        advisory_services.set_release_plan(
            actor=manager,
            advisory=advisory,
            early_at=now + timedelta(hours=1),
            standard_at=now + timedelta(days=1),
            public_release_at=now + timedelta(days=3),
        )
        early_at = now - timedelta(seconds=1)
        ReleaseWave.objects.filter(advisory=advisory, level=AccessLevel.EARLY).update(scheduled_at=early_at)

        outcomes = run_together(
            partial(
                advisory_services.set_release_plan,
                actor=manager,
                advisory=advisory,
                early_at=early_at,
                standard_at=now + timedelta(days=2),
                public_release_at=now + timedelta(days=4),
            ),
            advisory_services.release_due_waves,
        )

        assert failures(outcomes) == []
        advisory_services.release_due_waves()  # a wave skipped while the plan was locked releases on the next run
        early = ReleaseWave.objects.get(advisory=advisory, level=AccessLevel.EARLY)
        assert early.status == WaveStatus.RELEASED
        assert Delivery.objects.filter(wave=early).count() == 1
        assert recorded_after("wave.released", target=early, actions=["wave.released"]) == []
