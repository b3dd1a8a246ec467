"""A compliance officer takes a violation from report to a timed suspension (each step offering only what the state
machines allow, the suspension confirmed first); the partner admin appeals; the officer decides; the suspension
ends on its own at its time."""

import re
from datetime import UTC, timedelta

import pytest
import time_machine
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from compliance.models import Appeal, AppealStatus, EnforcementAction, Violation, ViolationStatus
from core.levels import AccessLevel
from partners import services as partner_services
from partners.models import Partner, PartnerStatus
from tests.e2e.conftest import log_in
from tests.factories import AgreementFactory, ComplianceOfficerFactory, MembershipFactory, PartnerFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def _radio_labels(page, name):
    return [label.strip() for label in page.locator(f"input[name={name}] >> xpath=..").all_inner_texts()]


def test_a_violation_leads_to_a_timed_suspension_an_appeal_decided_and_the_end_of_the_suspension(new_page, nda):
    officer = ComplianceOfficerFactory(email="casey@forewarn.test")
    officer_device = TOTPDevice.objects.create(user=officer, name="Phone", confirmed=True)
    partner = PartnerFactory(legal_name="Kestrel Intrusion Detection", assigned_level=AccessLevel.STANDARD)
    AgreementFactory(partner=partner, contract_version=nda)
    admin = MembershipFactory(partner=partner, role="admin").user
    admin.set_password(PASSWORD)
    admin.save()
    admin_device = TOTPDevice.objects.create(user=admin, name="Phone", confirmed=True)

    staff = new_page()
    log_in(staff, email=officer.email, password=PASSWORD, device=officer_device)

    # 1. Report, then investigate: each step offers only the transitions open now.
    staff.goto("/program/compliance/violations/report/")
    staff.select_option("[name=partner]", str(partner.pk))
    staff.select_option("[name=kind]", "leak")
    staff.select_option("[name=severity]", "high")
    staff.fill("[name=summary]", "Detection rule posted on a forum before disclosure")
    staff.fill("[name=related_advisories]", "FWN-2026-0001")
    staff.click("main form button[type=submit]")
    staff.wait_for_url(re.compile(r"/program/compliance/violations/\d+/$"))
    violation = Violation.objects.get()
    assert _radio_labels(staff, "transition") == ["Start the investigation"]
    assert staff.locator("[name=kind]").count() == 0  # nothing to enforce before it is substantiated
    for step, note in (("Start the investigation", "Asked for their logs."), ("Substantiate", "Logs confirm it.")):
        staff.get_by_label(step).check()
        staff.fill("[name=note]", note)
        staff.get_by_role("button", name="Apply").click()
        staff.get_by_role("status").wait_for()
        if step == "Start the investigation":
            assert _radio_labels(staff, "transition") == ["Substantiate", "Dismiss"]
    violation.refresh_from_db()
    assert violation.status == ViolationStatus.SUBSTANTIATED
    kinds = [option.strip() for option in staff.locator("[name=kind] option").all_inner_texts()]
    assert "Reinstatement" not in kinds and "Suspension" in kinds  # the organisation is active
    staff.review("journey-compliance-violation-substantiated")

    # 2. A suspension for ten minutes, confirmed on a page of its own.
    until = (timezone.now() + timedelta(minutes=10)).replace(second=0, microsecond=0)
    staff.select_option("[name=kind]", "suspension")
    staff.fill("form[action$='/enforce/'] [name=reason]", "Rule leaked before disclosure.")
    staff.fill("[name=ends_at]", until.astimezone(UTC).strftime("%Y-%m-%d %H:%M"))
    staff.get_by_role("button", name="Record action").click()
    staff.get_by_role("heading", name="Record a suspension against Kestrel Intrusion Detection?").wait_for()
    assert f"until {until:%Y-%m-%d %H:%M} UTC" in staff.locator("main").inner_text()
    assert Partner.objects.get(pk=partner.pk).status == PartnerStatus.ACTIVE  # nothing happened yet
    staff.review("journey-compliance-confirm-suspension")
    staff.get_by_role("button", name="Record the suspension").click()
    staff.get_by_text("Suspension recorded").wait_for()
    partner.refresh_from_db()
    assert (partner.status, partner.suspended_until) == (PartnerStatus.SUSPENDED, until)
    kinds = [option.strip() for option in staff.locator("[name=kind] option").all_inner_texts()]
    assert "Reinstatement" in kinds and "Suspension" not in kinds

    # 3. The partner admin appeals from the portal.
    member = new_page()
    log_in(member, email=admin.email, password=PASSWORD, device=admin_device)
    member.goto("/portal/appeals/")
    member.review("journey-compliance-partner-appeals")
    action = EnforcementAction.objects.get(kind="suspension")
    member.goto(f"/portal/appeals/{action.pk}/")
    member.fill("[name=statement]", "A contractor posted it; we ended the contract the same day.")
    member.click("main form button[type=submit]")
    member.get_by_text("Your appeal is filed").wait_for()
    appeal = Appeal.objects.get()

    # 4. The officer decides: uphold.
    staff.goto("/program/compliance/appeals/")
    staff.get_by_role("link", name=str(appeal.pk), exact=True).click()
    staff.get_by_label("Uphold the action").check()
    staff.fill("[name=decision]", "The leak happened under the organisation's responsibility.")
    staff.get_by_role("button", name="Record decision").click()
    staff.get_by_text("The appeal is upheld.").wait_for()
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.UPHELD
    assert staff.locator("[name=outcome]").count() == 0  # decided: nothing left to decide
    staff.review("journey-compliance-appeal-decided")

    # 5. At its end time the suspension ends by itself (the beat task's service), and the pages say so.
    with time_machine.travel(until + timedelta(seconds=30), tick=True):
        assert partner_services.end_due_suspensions() == [partner.pk]
        staff.goto(f"/program/partners/{partner.pk}/")
        staff.get_by_text("Active", exact=True).first.wait_for()
    partner.refresh_from_db()
    assert partner.status == PartnerStatus.ACTIVE
    assert staff.problems + member.problems == [], "\n".join(staff.problems + member.problems)
