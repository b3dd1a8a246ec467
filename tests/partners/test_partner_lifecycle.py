"""Partner lifecycle through services: only managers act, a reason is required, removal is final and cleans up."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from advisories import services as advisory_services
from advisories.models import AdvisoryGroupObjectPermission
from core.levels import AccessLevel
from core.models import AuditEvent
from partners import services
from partners.models import PartnerMembership, PartnerStatus
from tests.factories import UserFactory, WaveFactory


@pytest.mark.django_db
def test_creating_a_partner_gives_it_its_own_group_and_audits_it(manager):
    partner = services.create_partner(
        actor=manager, legal_name="Northwind Antivirus Inc.", country="US", assigned_level=AccessLevel.STANDARD
    )

    assert partner.status == PartnerStatus.ACTIVE
    assert partner.group.name == "partner:Northwind Antivirus Inc."
    assert AuditEvent.objects.filter(action="partner.created", target_id=str(partner.pk)).exists()


@pytest.mark.django_db
def test_a_duplicate_legal_name_is_refused(manager):
    services.create_partner(actor=manager, legal_name="Northwind", country="US", assigned_level=AccessLevel.GENERIC)

    with pytest.raises(ValidationError, match="already exists"):
        services.create_partner(actor=manager, legal_name="northwind", country="US", assigned_level=AccessLevel.GENERIC)


@pytest.mark.django_db
def test_only_program_managers_create_partners():
    with pytest.raises(PermissionDenied, match="Only program managers may do this"):
        services.create_partner(
            actor=UserFactory(), legal_name="Northwind", country="US", assigned_level=AccessLevel.GENERIC
        )


@pytest.mark.django_db
def test_staff_cannot_become_partner_members(manager, make_partner):
    with pytest.raises(ValidationError, match="Program staff"):
        services.add_member(actor=manager, partner=make_partner(), email=manager.email, role="analyst")


@pytest.mark.django_db
def test_a_person_belongs_to_one_organisation_only(manager, make_partner):
    services.add_member(actor=manager, partner=make_partner(), email="a@example.test", role="analyst")

    with pytest.raises(ValidationError, match="already belongs"):
        services.add_member(actor=manager, partner=make_partner(), email="A@example.test", role="admin")


@pytest.mark.django_db
def test_suspension_needs_a_written_reason(manager, make_partner):
    partner = make_partner()

    with pytest.raises(ValidationError, match="reason"):
        services.suspend_partner(partner=partner, actor=manager, reason="  ")
    partner.refresh_from_db()
    assert partner.status == PartnerStatus.ACTIVE


@pytest.mark.django_db
def test_suspend_then_reinstate_is_audited_with_the_reason(manager, make_partner):
    partner = make_partner()

    services.suspend_partner(partner=partner, actor=manager, reason="Leak under investigation")
    partner = services.reinstate_partner(partner=partner, actor=manager, reason="Cleared")

    assert partner.status == PartnerStatus.ACTIVE
    actions = list(AuditEvent.objects.filter(target_id=str(partner.pk)).values_list("action", "details__reason"))
    assert actions == [("partner.suspended", "Leak under investigation"), ("partner.reinstated", "Cleared")]


@pytest.mark.django_db
def test_removal_is_final(manager, make_partner):
    partner = make_partner()
    services.remove_partner(partner=partner, actor=manager, reason="Passed advisories to a broker")

    with pytest.raises(ValidationError, match="removed organisation cannot be reinstated"):
        services.reinstate_partner(partner=partner, actor=manager, reason="Changed our mind")
    partner.refresh_from_db()
    assert partner.status == PartnerStatus.REMOVED


@pytest.mark.django_db
def test_removal_deactivates_members_and_revokes_object_permissions(
    manager, make_partner, member_of, advisory, django_capture_on_commit_callbacks
):
    partner = make_partner(level=AccessLevel.EARLY)
    member_of(partner)
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY)
    advisory_services.release_due_waves()
    assert AdvisoryGroupObjectPermission.objects.filter(group=partner.group).exists()

    with django_capture_on_commit_callbacks(execute=True):
        services.remove_partner(partner=partner, actor=manager, reason="Passed advisories to a broker")

    assert not PartnerMembership.objects.filter(partner=partner, is_active=True).exists()
    assert not AdvisoryGroupObjectPermission.objects.filter(group=partner.group).exists()
    assert partner.deliveries.exists()
