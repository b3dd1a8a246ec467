"""Appeals: a partner admin appeals an enforcement action; a compliance officer upholds or overturns it, and
overturning restores the prior state through the same services (a removal cannot be overturned)."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from compliance import services
from compliance.entitlements import effective_level
from compliance.models import Appeal, AppealStatus
from core.levels import AccessLevel
from core.models import AuditEvent
from partners.models import PartnerStatus
from tests.factories import MembershipFactory, PartnerFactory


def _appeal(action, admin):
    return services.file_appeal(actor=admin, action=action, statement="The sample was not ours: see our logs.")


def _decide(appeal, officer, *, overturn):
    return services.decide_appeal(actor=officer, appeal=appeal, overturn=overturn, decision="Logs reviewed.")


@pytest.fixture
def cap(substantiated, compliance_officer):
    return services.impose_level_cap(
        violation=substantiated, actor=compliance_officer, cap_level=AccessLevel.STANDARD, reason="No PoC"
    )


@pytest.mark.django_db
def test_a_partner_admin_files_an_appeal_and_it_is_audited(cap, partner_admin):
    appeal = _appeal(cap, partner_admin)

    assert (appeal.status, appeal.filed_by, appeal.action) == (AppealStatus.FILED, partner_admin, cap)
    assert AuditEvent.objects.get(action="appeal.filed").details == {
        "enforcement_action": cap.pk,
        "partner": cap.partner_id,
    }


@pytest.mark.django_db
def test_an_analyst_may_not_appeal(cap, partner_analyst):
    with pytest.raises(PermissionDenied, match="partner admins can appeal"):
        _appeal(cap, partner_analyst)


@pytest.mark.django_db
def test_an_admin_of_another_organisation_may_not_appeal(cap):
    stranger = MembershipFactory(partner=PartnerFactory(), role="admin").user

    with pytest.raises(PermissionDenied, match="partner admins can appeal"):
        _appeal(cap, stranger)


@pytest.mark.django_db
def test_a_second_pending_appeal_against_the_same_action_is_refused(cap, partner_admin):
    _appeal(cap, partner_admin)

    with pytest.raises(ValidationError, match="An appeal against this action is already pending"):
        _appeal(cap, partner_admin)

    assert Appeal.objects.count() == 1


@pytest.mark.django_db
def test_an_appeal_without_a_statement_is_refused(cap, partner_admin):
    with pytest.raises(ValidationError, match="Write your statement"):
        services.file_appeal(actor=partner_admin, action=cap, statement="   ")


@pytest.mark.django_db
def test_an_upheld_appeal_keeps_the_cap(cap, partner_admin, compliance_officer, django_capture_on_commit_callbacks):
    appeal = _appeal(cap, partner_admin)

    with django_capture_on_commit_callbacks(execute=True):
        appeal = _decide(appeal, compliance_officer, overturn=False)

    assert appeal.status == AppealStatus.UPHELD
    assert effective_level(cap.partner) == AccessLevel.STANDARD
    assert AuditEvent.objects.filter(action="appeal.upheld", target_id=str(appeal.pk)).exists()
    assert "upheld" in mail.outbox[-1].subject and partner_admin.email in mail.outbox[-1].to


@pytest.mark.django_db
def test_an_overturned_appeal_lifts_the_cap_at_once(cap, partner_admin, compliance_officer):
    appeal = _appeal(cap, partner_admin)

    appeal = _decide(appeal, compliance_officer, overturn=True)

    cap.refresh_from_db()
    assert appeal.status == AppealStatus.OVERTURNED
    assert cap.ends_at == cap.overturned_at == appeal.decided_at
    assert effective_level(cap.partner) == AccessLevel.EARLY
    assert AuditEvent.objects.filter(action="appeal.overturned", target_id=str(appeal.pk)).exists()


@pytest.mark.django_db
def test_an_overturned_appeal_against_a_suspension_reinstates_the_organisation(
    substantiated, partner_admin, compliance_officer
):
    suspension = services.suspend_for_violation(violation=substantiated, actor=compliance_officer, reason="Leak")
    appeal = _appeal(suspension, partner_admin)

    _decide(appeal, compliance_officer, overturn=True)

    substantiated.partner.refresh_from_db()
    suspension.refresh_from_db()
    assert substantiated.partner.status == PartnerStatus.ACTIVE
    assert suspension.ends_at is not None and suspension.ends_at <= timezone.now()
    assert effective_level(substantiated.partner) == AccessLevel.EARLY
    assert AuditEvent.objects.filter(action="partner.reinstated").exists()


@pytest.mark.django_db
def test_an_appeal_against_a_removal_cannot_be_overturned(substantiated, partner_admin, compliance_officer):
    # Filed while the admin still had a membership; removal deactivates it afterwards.
    warning = services.issue_warning(violation=substantiated, actor=compliance_officer, reason="First warning")
    removal = services.remove_for_violation(violation=substantiated, actor=compliance_officer, reason="Sold data")
    appeal = Appeal.objects.create(action=removal, statement="Please reconsider", filed_by=partner_admin)

    with pytest.raises(ValidationError, match="removal is final"):
        _decide(appeal, compliance_officer, overturn=True)

    appeal.refresh_from_db()
    substantiated.partner.refresh_from_db()
    assert appeal.status == AppealStatus.FILED
    assert substantiated.partner.status == PartnerStatus.REMOVED
    assert _decide(appeal, compliance_officer, overturn=False).status == AppealStatus.UPHELD
    assert warning.overturned_at is None


@pytest.mark.django_db
@pytest.mark.parametrize("overturn", [True, False])
def test_a_decided_appeal_cannot_be_decided_again(overturn, cap, partner_admin, compliance_officer):
    appeal = _decide(_appeal(cap, partner_admin), compliance_officer, overturn=True)

    with pytest.raises(ValidationError, match="This appeal was already overturned"):
        _decide(appeal, compliance_officer, overturn=overturn)


@pytest.mark.django_db
def test_program_managers_may_not_decide_appeals(cap, partner_admin, manager):
    appeal = _appeal(cap, partner_admin)

    with pytest.raises(PermissionDenied, match="Only compliance officers may do this"):
        _decide(appeal, manager, overturn=True)


@pytest.mark.django_db
def test_an_overturned_action_cannot_be_appealed_again(cap, partner_admin, compliance_officer):
    _decide(_appeal(cap, partner_admin), compliance_officer, overturn=True)

    with pytest.raises(ValidationError, match="This action has already been overturned"):
        _appeal(cap, partner_admin)


@pytest.mark.django_db
def test_a_reinstatement_cannot_be_appealed(substantiated, partner_admin, compliance_officer):
    services.suspend_for_violation(violation=substantiated, actor=compliance_officer, reason="Leak")
    reinstatement = services.reinstate_for_violation(violation=substantiated, actor=compliance_officer, reason="Ok")

    with pytest.raises(ValidationError, match="A reinstatement cannot be appealed"):
        _appeal(reinstatement, partner_admin)
