"""Every main page, as every role sees it on the demo program: screenshots at 1280 px and 390 px, the axe-core
accessibility scan (no serious or critical violation) and no sideways scrolling at 390 px."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from advisories import services as advisory_services
from advisories.models import Advisory, AdvisoryStatus, LeakIncident
from compliance import services as compliance_services
from compliance.entitlements import partner_access
from compliance.models import ComplianceReview, ContractVersion
from core.levels import AccessLevel
from partners.models import Partner
from tests.e2e.conftest import DESKTOP, PHONE, log_in
from tests.factories import ComplianceReviewFactory, PartnerApplicationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "forewarn-demo-2026"


def _user(email):
    return get_user_model().objects.get(email=email)


def _device(email):
    return TOTPDevice.objects.get(user__email=email, confirmed=True)


def _demo_world():
    """The demo program, plus what it does not hold: an application to review, a substantiated violation with a
    level cap under appeal, a review due, a leak investigation with a traced sample, handling acknowledged."""
    call_command("seed_demo", stdout=io.StringIO())
    officer = _user("compliance@forewarn.test")
    kestrel = Partner.objects.get(legal_name__startswith="Kestrel")
    public = Advisory.objects.filter(status=AdvisoryStatus.PUBLIC).order_by("identifier").first()
    live = Advisory.objects.get(status=AdvisoryStatus.SCHEDULED)
    application = PartnerApplicationFactory(legal_name="Osprey Endpoint Security Oy", country="FI")
    violation = compliance_services.report_violation(
        actor=officer,
        partner=kestrel,
        kind="leak",
        severity="high",
        summary=f"Detection rule of {public.identifier} posted on a forum before disclosure.",
        description="Found by a researcher; the post names the rule's sid.",
        related_advisories=[public.identifier],
    )
    compliance_services.start_investigation(violation=violation, actor=officer, note="Asked Kestrel for its logs.")
    compliance_services.substantiate_violation(violation=violation, actor=officer, note="The logs confirm it.")
    cap = compliance_services.impose_level_cap(
        violation=violation,
        actor=officer,
        cap_level=AccessLevel.GENERIC,
        reason="Rule leaked before disclosure.",
        ends_at=timezone.now() + timedelta(days=90),
    )
    appeal = compliance_services.file_appeal(
        actor=_user("admin@kestrel.test"), action=cap, statement="A contractor posted it; we ended the contract."
    )
    review = ComplianceReviewFactory(partner=kestrel, due_at=timezone.now() - timedelta(days=3))
    incident = advisory_services.open_leak_incident(
        actor=officer,
        advisory=public,
        observed_at=timezone.now(),  # the demo's late release run delivered everything moments ago
        description="The technical description appeared on a paste site.",
        sample_text="A vulnerability in Contoso Mail Server could allow a remote attacker to run code as SYSTEM.",
        sample_source="paste site",
    )
    reader = _user("admin@northwind.test")
    for advisory in Advisory.objects.filter(status=AdvisoryStatus.PUBLIC):
        advisory_services.acknowledge_handling(access=partner_access(reader), user=reader, advisory=advisory)
    return {
        "public": public,
        "live": live,
        "application": application,
        "violation": violation,
        "appeal": appeal,
        "review": review,
        "incident": incident,
        "kestrel": kestrel,
        "nda": ContractVersion.objects.get(contract_key="nda"),
    }


def _pages(world):
    public, live, kestrel = world["public"].identifier, world["live"].identifier, world["kestrel"].pk
    released_month = f"{world['public'].public_release_at:%Y-%m}"
    return {
        None: [
            ("anonymous-login", "/login/"),
            ("anonymous-apply", "/apply/"),
            ("anonymous-password-reset", "/password-reset/"),
        ],
        "manager@forewarn.test": [
            ("manager-dashboard", "/program/"),
            ("manager-advisories", "/program/advisories/"),
            ("manager-advisory-new", "/program/advisories/new/"),
            ("manager-advisory-scheduled", f"/program/advisories/{live}/"),
            ("manager-advisory-public", f"/program/advisories/{public}/"),
            ("manager-advisory-edit", f"/program/advisories/{live}/edit/"),
            ("manager-release-plan", f"/program/advisories/{live}/plan/"),
            ("manager-document-editor", f"/program/advisories/{live}/documents/standard/"),
            ("manager-artifact-upload", f"/program/advisories/{live}/artifacts/new/"),
            ("manager-wave-preview", f"/program/advisories/{live}/waves/early/"),
            ("manager-wave-deliveries", f"/program/advisories/{public}/waves/standard/"),
            ("manager-withdraw", f"/program/advisories/{live}/withdraw/"),
            ("manager-calendar", "/program/advisories/calendar/"),
            ("manager-calendar-released", f"/program/advisories/calendar/?month={released_month}"),
            ("manager-calendar-list", "/program/advisories/calendar/upcoming/"),
            ("manager-coverage", f"/program/advisories/{public}/coverage/"),
            ("manager-applications", "/program/applications/"),
            ("manager-application", f"/program/applications/{world['application'].pk}/"),
            ("manager-partners", "/program/partners/"),
            ("manager-partner", f"/program/partners/{kestrel}/"),
            ("manager-partner-protection", f"/program/partners/{kestrel}/protection/"),
            ("manager-contracts", "/program/contracts/"),
            ("manager-contract-version", f"/program/contracts/versions/{world['nda'].pk}/"),
            ("manager-contract-publish", "/program/contracts/publish/"),
            ("manager-signatures", "/program/contracts/signatures/"),
            ("manager-reports", "/program/reports/"),
            ("manager-distribution-report", f"/program/reports/advisories/{public}/distribution/"),
            ("manager-violations", "/program/compliance/violations/"),
            ("manager-violation-report", "/program/compliance/violations/report/"),
        ],
        "compliance@forewarn.test": [
            ("compliance-violations", "/program/compliance/violations/"),
            ("compliance-violation", f"/program/compliance/violations/{world['violation'].pk}/"),
            ("compliance-appeals", "/program/compliance/appeals/"),
            ("compliance-appeal", f"/program/compliance/appeals/{world['appeal'].pk}/"),
            ("compliance-jurisdictions", "/program/compliance/jurisdictions/"),
            ("compliance-reviews", "/program/compliance/reviews/"),
            ("compliance-review", f"/program/compliance/reviews/{world['review'].pk}/"),
            ("compliance-leaks", "/program/leaks/"),
            ("compliance-leak", f"/program/leaks/{world['incident'].pk}/"),
            (
                "compliance-leak-open-violation",
                f"/program/leaks/{world['incident'].pk}/violations/?partner={kestrel}",
            ),
        ],
        "admin@northwind.test": [
            ("partner-dashboard", "/portal/dashboard/"),
            ("partner-advisories", "/portal/"),
            ("partner-advisory", f"/portal/advisories/{public}/"),
            ("partner-protection", f"/portal/advisories/{public}/protection/"),
            ("partner-indicators", f"/portal/advisories/{public}/indicators/"),
            ("partner-inbox", "/portal/notices/"),
            ("partner-notice-preferences", "/portal/notices/preferences/"),
            ("partner-agreements", "/portal/agreements/"),
            ("partner-team", "/portal/team/"),
            ("partner-api-tokens", "/portal/api-tokens/"),
            ("partner-appeals", "/portal/appeals/"),
        ],
        "admin@kestrel.test": [
            ("partner-acknowledge", f"/portal/advisories/{public}/"),
            ("partner-appeal-file", f"/portal/appeals/{world['appeal'].action_id}/"),
        ],
        "analyst@northwind.test": [
            ("analyst-advisories", "/portal/"),
        ],
        "admin@tundra.test": [
            ("partner-without-access", "/portal/"),
        ],
    }


def _navigation_problems(page, email) -> list[str]:
    """Every link of the navigation bars and the footer opens for this person (no 403 or 404 behind a link), and
    the Django admin is not in the main navigation."""
    header = [link.get_attribute("href") for link in page.locator("header nav a").all()]
    others = [link.get_attribute("href") for link in page.locator("main nav a, footer a").all()]
    problems = [f"{email}: the admin is in the main navigation" for href in header if href.startswith("/manage/")]
    for href in dict.fromkeys(header + others):
        status = page.request.get(href).status
        if status != 200:
            problems.append(f"{email}: the navigation links to {href}, which answers {status}")
    return problems


def _phone_menu_problems(page) -> list[str]:
    """At 390 px the navigation folds behind a Menu button that opens it."""
    page.set_viewport_size(PHONE)
    toggle = page.get_by_role("button", name="Menu")
    problems = []
    if not toggle.is_visible() or page.locator("#mainnav").is_visible():
        problems.append("phone: the navigation is not folded behind a visible Menu button")
    toggle.click()
    if toggle.get_attribute("aria-expanded") != "true" or not page.locator("#mainnav").is_visible():
        problems.append("phone: the Menu button does not open the navigation")
    page.set_viewport_size(DESKTOP)
    return problems


def test_every_main_page_is_accessible_fits_a_phone_and_is_reachable_from_the_navigation_for_every_role(new_page):
    world = _demo_world()
    assert LeakIncident.objects.exists() and ComplianceReview.objects.exists()
    problems = []
    for email, pages in _pages(world).items():
        page = new_page()
        if email is not None:
            log_in(page, email=email, password=DEMO_PASSWORD, device=_device(email))
            problems += _navigation_problems(page, email)
        for name, path in pages:
            response = page.goto(path)
            assert response.status < 500, f"{name}: {path} answered {response.status}"
            page.review(name)
            if name == "manager-advisory-scheduled":
                # The browser is in UTC: the times stand alone, with no "(your time: ...)" repeating them.
                assert page.locator("time[data-local-time]").count() > 0
                assert page.locator(".local-time").count() == 0
        if email == "manager@forewarn.test":
            problems += _phone_menu_problems(page)
        problems += page.problems
        page.context.close()
    assert problems == [], "\n".join(problems)
