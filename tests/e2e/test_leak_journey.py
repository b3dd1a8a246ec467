"""A leak investigation in the browser: a partner reads an advisory (its personalised copy); an excerpt of it turns
up; the compliance officer pastes it, the trace names the copy (one row per copy, however often it was read), and
the officer deliberately opens a violation against that organisation."""

import re
from datetime import UTC, timedelta

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from advisories import services
from advisories.models import LeakIncident
from advisories.sample_texts import MAIL_SERVER
from compliance.models import Violation, ViolationKind
from core.levels import AccessLevel
from tests.e2e.conftest import log_in
from tests.factories import AdvisoryFactory, ComplianceOfficerFactory, DocumentFactory, WaveFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def test_a_pasted_excerpt_is_traced_to_its_copy_and_a_violation_is_opened_deliberately(
    new_page, make_partner, member_of
):
    officer = ComplianceOfficerFactory(email="casey@forewarn.test")
    officer_device = TOTPDevice.objects.create(user=officer, name="Phone", confirmed=True)
    leaker_org = make_partner(level=AccessLevel.STANDARD, legal_name="Standard Shield Ltd")
    make_partner(level=AccessLevel.EARLY, legal_name="Early Bird Security")
    reader = member_of(leaker_org, role="admin")
    reader.set_password(PASSWORD)
    reader.save()
    reader_device = TOTPDevice.objects.create(user=reader, name="Phone", confirmed=True)
    advisory = AdvisoryFactory(title="Remote code execution in Contoso Mail Server transport")
    DocumentFactory(advisory=advisory, level=AccessLevel.GENERIC, body_markdown="A flaw in Contoso Mail Server.")
    DocumentFactory(advisory=advisory, level=AccessLevel.STANDARD, title="Technical details", body_markdown=MAIL_SERVER)
    released_at = timezone.now() - timedelta(minutes=3)
    WaveFactory(advisory=advisory, level=AccessLevel.STANDARD, scheduled_at=released_at)
    services.release_due_waves(now=released_at)

    # 1. The partner reads its copy, twice.
    member = new_page()
    log_in(member, email=reader.email, password=PASSWORD, device=reader_device)
    member.goto(f"/portal/advisories/{advisory.identifier}/")
    member.check("[name=acknowledge]")
    member.get_by_role("button", name="Acknowledge and open").click()
    copy = member.locator("article.document", has_text="Technical details").inner_text()
    member.reload()
    start = copy.index("The flaw") if "The flaw" in copy else len(copy) // 3
    # Default copies carry no look-alike letters: 2,000 characters name the copy in 99.3% of samples
    # (docs/fingerprinting.md); 3,000 make this journey deterministic in practice.
    excerpt = copy[start : start + 3000]

    # 2. The officer opens an investigation with the pasted excerpt.
    staff = new_page()
    log_in(staff, email=officer.email, password=PASSWORD, device=officer_device)
    staff.goto("/program/leaks/")
    staff.select_option("[name=advisory]", advisory.identifier)
    staff.fill("[name=observed_at]", timezone.now().astimezone(UTC).strftime("%Y-%m-%d %H:%M"))
    staff.fill("[name=description]", "An excerpt of the technical description was posted on a forum.")
    staff.fill("[name=sample_text]", excerpt)
    staff.fill("[name=sample_source]", "forum post")
    staff.click("main form button[type=submit]")
    staff.wait_for_url(re.compile(r"/program/leaks/\d+/$"))
    incident = LeakIncident.objects.get()
    assert "Match:" in staff.locator(".sample").first.inner_text()
    assert "Standard Shield Ltd" in staff.locator(".sample .match").first.inner_text()
    copies = [
        tuple(cells[2:4])
        for cells in (row.locator("td").all_inner_texts() for row in staff.locator(".sample table tbody tr").all())
    ]
    assert copies and len(copies) == len(set(copies)), copies  # one row per served copy
    assert staff.locator("main form button", has_text="Open violation").count() == 0  # no one-click accusation
    staff.review("journey-leak-results")

    # 3. Opening a violation is a step of its own, with nothing preset.
    staff.locator("tr", has_text="Standard Shield Ltd").get_by_role("link", name="Open a violation…").click()
    assert staff.locator("[name=severity]").input_value() == ""
    assert staff.locator("[name=partner]").input_value() == str(leaker_org.pk)
    staff.review("journey-leak-open-violation")
    staff.get_by_role("button", name="Open the violation").click()
    staff.get_by_text("Choose the severity: nothing is preset.").first.wait_for()
    assert not Violation.objects.exists()
    staff.select_option("[name=severity]", "high")
    staff.get_by_role("button", name="Open the violation").click()
    staff.get_by_text("opened against Standard Shield Ltd").wait_for()
    violation = Violation.objects.get()
    assert (violation.partner, violation.kind, violation.severity) == (leaker_org, ViolationKind.LEAK, "high")
    assert violation.evidence["leak_incident"] == incident.pk
    assert violation.evidence["fingerprint_traces"], violation.evidence
    assert staff.problems + member.problems == [], "\n".join(staff.problems + member.problems)
