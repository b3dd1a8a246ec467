"""The public application: validation, duplicates, rate limit, email verification; the application state machine."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from compliance import onboarding
from core.levels import AccessLevel
from core.models import AuditEvent
from partners import services, tokens
from partners.models import DUE_DILIGENCE_CHECKLIST, ApplicationStatus, Invitation, PartnerApplication, PartnerStatus
from tests.factories import (
    JurisdictionPolicyFactory,
    PartnerApplicationFactory,
    PartnerDomainFactory,
    PartnerFactory,
    UserFactory,
)

VALID = {
    "legal_name": "Heron Network Defence BV",
    "country": "NL",
    "website": "https://heron.test",
    "email_domains": "heron.test",
    "products": "IDS appliances.",
    "customer_base": "Dutch municipalities.",
    "ownership": "Employee owned.",
    "security_contact_name": "Sec Team",
    "security_contact_email": "psirt@heron.test",
    "applicant_name": "Henk Heron",
    "applicant_email": "henk@heron.test",
}


def _apply(client, **changes):
    return client.post(reverse("partners:apply"), {**VALID, **changes})


# The public form ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_application_form_renders_for_anyone(client):
    response = client.get(reverse("partners:apply"))

    assert response.status_code == 200
    assert 'name="government_affiliations"' in response.text
    assert 'name="reporting_duty"' in response.text


@pytest.mark.django_db
def test_a_valid_application_is_stored_unverified_and_audited(client):
    response = _apply(client)

    assert response.status_code == 302
    application = PartnerApplication.objects.get()
    assert application.status == ApplicationStatus.SUBMITTED
    assert application.submitted_ip == "127.0.0.1"
    assert AuditEvent.objects.filter(action="application.submitted", target_id=str(application.pk)).exists()


@pytest.mark.django_db
def test_the_applicant_is_sent_a_confirmation_link(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _apply(client)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["henk@heron.test"]
    assert "/apply/confirm/" in mail.outbox[0].body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("legal_name", ""),
        ("country", "XX"),
        ("website", "not a url"),
        ("email_domains", "not_a_domain"),
        ("security_contact_email", "nobody"),
        ("products", ""),
    ],
)
def test_bad_input_gets_a_field_error_and_saves_nothing(client, field, value):
    response = _apply(client, **{field: value})

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not PartnerApplication.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_an_applicant_address_outside_the_declared_domains_is_refused(client):
    response = _apply(client, applicant_email="henk@gmail.test")

    assert response.status_code == 400
    assert "applicant_email" in response.context["form"].errors
    assert not PartnerApplication.objects.exists()


@pytest.mark.django_db
def test_a_declared_reporting_duty_needs_details(client):
    response = _apply(client, reporting_duty="on")

    assert "reporting_duty_details" in response.context["form"].errors
    assert not PartnerApplication.objects.exists()


def _apply_and_capture(client, capture):
    with capture(execute=True):
        return _apply(client)


@pytest.mark.django_db
def test_a_second_application_for_the_same_organisation_is_refused_as_duplicate(
    client, django_capture_on_commit_callbacks
):
    PartnerApplicationFactory(legal_name="heron network defence bv", email_domains=["other.test"])

    _apply_and_capture(client, django_capture_on_commit_callbacks)

    assert PartnerApplication.objects.count() == 1
    assert mail.outbox[0].to == ["henk@heron.test"]
    assert "already being processed" in mail.outbox[0].body


@pytest.mark.django_db
def test_an_application_sharing_an_email_domain_with_an_open_one_is_refused(client, django_capture_on_commit_callbacks):
    PartnerApplicationFactory(legal_name="Heron Holding", email_domains=["heron.test"], status="under_review")

    _apply_and_capture(client, django_capture_on_commit_callbacks)

    assert PartnerApplication.objects.count() == 1
    assert "one of these email domains is already being processed" in mail.outbox[0].body


@pytest.mark.django_db
def test_an_application_for_a_domain_of_an_existing_partner_is_refused(client, django_capture_on_commit_callbacks):
    PartnerDomainFactory(partner=PartnerFactory(legal_name="Heron Group"), domain="heron.test")

    _apply_and_capture(client, django_capture_on_commit_callbacks)

    assert not PartnerApplication.objects.exists()
    assert "already in the partner program" in mail.outbox[0].body


@pytest.mark.django_db
def test_a_duplicate_gets_the_same_answer_as_a_new_application_so_the_form_reveals_no_partner(client):
    PartnerDomainFactory(partner=PartnerFactory(legal_name="Heron Group"), domain="heron.test")
    duplicate = _apply(client)
    fresh = _apply(client, legal_name="Egret Ltd", email_domains="egret.test", applicant_email="e@egret.test")

    assert (duplicate.status_code, duplicate.url) == (fresh.status_code, fresh.url)
    assert PartnerApplication.objects.get().legal_name == "Egret Ltd"


@pytest.mark.django_db
def test_an_unconfirmed_application_whose_link_expired_does_not_block_a_new_one(client):
    PartnerApplicationFactory(
        legal_name=VALID["legal_name"], status="submitted", submitted_at=timezone.now() - timedelta(days=4)
    )

    assert _apply(client).status_code == 302
    assert PartnerApplication.objects.count() == 2


@pytest.mark.django_db
def test_a_rejected_organisation_may_apply_again(client):
    PartnerApplicationFactory(legal_name=VALID["legal_name"], email_domains=["heron.test"], status="rejected")

    assert _apply(client).status_code == 302


@pytest.mark.django_db
def test_applications_are_rate_limited_per_client_address(client, settings):
    settings.APPLICATION_RATE = "2/h"
    _apply(client, legal_name="One", email_domains="one.test", applicant_email="a@one.test")
    _apply(client, legal_name="Two", email_domains="two.test", applicant_email="a@two.test")

    response = _apply(client)

    assert response.status_code == 429
    assert "Too many applications" in response.text
    assert PartnerApplication.objects.count() == 2


# Email verification --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_opening_the_confirmation_link_does_not_confirm_by_itself(client):
    application = PartnerApplicationFactory(status="submitted")

    response = client.get(reverse("partners:verify_application", args=[tokens.application_token(application)]))

    assert response.status_code == 200
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED


@pytest.mark.django_db
def test_confirming_the_email_sends_the_application_to_the_queue(client):
    application = PartnerApplicationFactory(status="submitted")

    response = client.post(reverse("partners:verify_application", args=[tokens.application_token(application)]))

    assert response.status_code == 200
    application.refresh_from_db()
    assert application.status == ApplicationStatus.EMAIL_VERIFIED
    assert application.email_verified_at is not None
    assert AuditEvent.objects.filter(action="application.email_verified").exists()


@pytest.mark.django_db
def test_a_confirmation_link_older_than_the_window_is_refused(client, settings):
    application = PartnerApplicationFactory(status="submitted")
    token = tokens.application_token(application)

    with time_machine.travel(timezone.now() + timedelta(seconds=settings.APPLICATION_VERIFICATION_MAX_AGE + 60)):
        response = client.post(reverse("partners:verify_application", args=[token]))

    assert response.status_code == 400
    assert "invalid or has expired" in response.text
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED


@pytest.mark.django_db
def test_a_forged_confirmation_link_is_refused(client):
    application = PartnerApplicationFactory(status="submitted")
    token = tokens.application_token(application)

    response = client.post(reverse("partners:verify_application", args=[token[:-2] + "xx"]))

    assert response.status_code == 400
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED


# The application state machine ---------------------------------------------------------------------------------------


def _verify(application, manager):
    return services.verify_application_email(token=tokens.application_token(application))


def _start(application, manager):
    return services.start_review(application=application, actor=manager)


def _approve(application, manager):
    return onboarding.approve_application(application=application, actor=manager, assigned_level=AccessLevel.GENERIC)


def _reject(application, manager):
    return services.reject_application(application=application, actor=manager, reason="Not a security vendor.")


TRANSITIONS = {
    "verify": (_verify, ApplicationStatus.SUBMITTED, ApplicationStatus.EMAIL_VERIFIED),
    "start_review": (_start, ApplicationStatus.EMAIL_VERIFIED, ApplicationStatus.UNDER_REVIEW),
    "approve": (_approve, ApplicationStatus.UNDER_REVIEW, ApplicationStatus.APPROVED),
    "reject": (_reject, ApplicationStatus.UNDER_REVIEW, ApplicationStatus.REJECTED),
}
COMPLETE = {key: {"by": "m", "at": "2026-01-01"} for key in DUE_DILIGENCE_CHECKLIST}


@pytest.mark.django_db
@pytest.mark.parametrize("name", TRANSITIONS)
def test_each_application_transition_is_allowed_from_its_source_state(name, manager):
    run, source, target = TRANSITIONS[name]
    application = PartnerApplicationFactory(status=source, checklist=COMPLETE)

    run(application, manager)

    application.refresh_from_db()
    assert application.status == target


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "state"),
    [
        (name, state)
        for name, (_, source, _) in TRANSITIONS.items()
        for state in ApplicationStatus.values
        if state != source
    ],
)
def test_each_application_transition_is_refused_from_every_other_state(name, state, manager):
    run, _, _ = TRANSITIONS[name]
    application = PartnerApplicationFactory(status=state, checklist=COMPLETE)
    events = AuditEvent.objects.count()

    with pytest.raises(
        ValidationError,
        match="Only a verified application can be reviewed|Only an application under review can be|already confirmed",
    ):
        run(application, manager)

    application.refresh_from_db()
    assert application.status == state
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
@pytest.mark.parametrize("run", [_start, _approve, _reject])
def test_only_program_managers_decide_on_applications(run):
    application = PartnerApplicationFactory(status="under_review", checklist=COMPLETE)

    with pytest.raises(PermissionDenied, match="Only program managers may do this"):
        run(application, UserFactory(is_staff=True))


@pytest.mark.django_db
def test_rejection_needs_a_reason_and_tells_the_applicant(manager, django_capture_on_commit_callbacks):
    application = PartnerApplicationFactory(status="under_review")
    with pytest.raises(ValidationError, match="reason"):
        services.reject_application(application=application, actor=manager, reason=" ")

    with django_capture_on_commit_callbacks(execute=True):
        services.reject_application(application=application, actor=manager, reason="No security products.")

    assert mail.outbox[0].to == [application.applicant_email]
    assert "No security products." in mail.outbox[0].body


# Approval -------------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_approval_creates_the_active_partner_and_invites_the_applicant_as_admin(application_under_review, manager):
    partner = onboarding.approve_application(
        application=application_under_review, actor=manager, assigned_level=AccessLevel.EARLY
    )

    assert (partner.status, partner.assigned_level) == (PartnerStatus.ACTIVE, AccessLevel.EARLY)
    assert partner.group.name == f"partner:{application_under_review.legal_name}"
    assert list(partner.domains.values_list("domain", flat=True)) == application_under_review.email_domains
    invitation = Invitation.objects.get(partner=partner)
    assert (invitation.email, invitation.role) == (application_under_review.applicant_email, "admin")
    application_under_review.refresh_from_db()
    assert application_under_review.partner == partner
    assert AuditEvent.objects.filter(action="application.approved").exists()


@pytest.mark.django_db
def test_approval_above_the_jurisdiction_cap_is_refused(manager):
    JurisdictionPolicyFactory(country="CN", cap_level=AccessLevel.GENERIC)
    application = PartnerApplicationFactory(status="under_review", country="CN", checklist=COMPLETE)

    with pytest.raises(ValidationError, match="cannot exceed generic"):
        onboarding.approve_application(application=application, actor=manager, assigned_level=AccessLevel.STANDARD)

    application.refresh_from_db()
    assert application.status == ApplicationStatus.UNDER_REVIEW
    assert not application.partner


@pytest.mark.django_db
def test_approval_at_the_jurisdiction_cap_is_allowed(manager):
    JurisdictionPolicyFactory(country="CN", cap_level=AccessLevel.GENERIC)
    application = PartnerApplicationFactory(status="under_review", country="CN", checklist=COMPLETE)

    partner = onboarding.approve_application(application=application, actor=manager, assigned_level=AccessLevel.GENERIC)

    assert partner.assigned_level == AccessLevel.GENERIC


@pytest.mark.django_db
def test_approval_with_an_incomplete_checklist_is_refused(manager):
    application = PartnerApplicationFactory(status="under_review", checklist={"identity": {"by": "m", "at": "x"}})

    with pytest.raises(ValidationError, match="checklist"):
        onboarding.approve_application(application=application, actor=manager, assigned_level=AccessLevel.GENERIC)

    application.refresh_from_db()
    assert application.status == ApplicationStatus.UNDER_REVIEW


@pytest.mark.django_db
def test_the_checklist_records_who_ticked_each_item(manager):
    application = PartnerApplicationFactory(status="under_review")

    services.update_checklist(application=application, actor=manager, done={"identity": True, "ownership": False})

    application.refresh_from_db()
    assert application.checklist["identity"]["by"] == manager.email
    assert "ownership" not in application.checklist


# Risk flags -----------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_risk_flags_name_the_jurisdiction_cap_affiliations_and_reporting_duty():
    JurisdictionPolicyFactory(country="CN", cap_level=AccessLevel.GENERIC)
    application = PartnerApplicationFactory(
        country="CN",
        government_affiliations="Member of the national vulnerability database.",
        reporting_duty=True,
        reporting_duty_details="Must report within 48 hours.",
    )

    codes = [flag.code for flag in onboarding.application_risk_flags(application)]

    assert codes == ["jurisdiction", "government_affiliation", "reporting_duty"]


@pytest.mark.django_db
def test_risk_flags_name_earlier_rejected_and_removed_organisations_with_the_same_domains():
    PartnerApplicationFactory(legal_name="Old Name Ltd", email_domains=["shared.test"], status="rejected")
    removed = PartnerFactory(legal_name="Removed Ltd", status=PartnerStatus.REMOVED)
    PartnerDomainFactory(partner=removed, domain="shared.test")
    application = PartnerApplicationFactory(email_domains=["shared.test", "new.test"])

    codes = [flag.code for flag in onboarding.application_risk_flags(application)]

    assert codes == ["previously_rejected", "previously_removed"]


@pytest.mark.django_db
def test_a_plain_application_has_no_risk_flags():
    assert onboarding.application_risk_flags(PartnerApplicationFactory()) == []
