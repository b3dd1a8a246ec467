"""Every URL of the project, requested as every persona, answers exactly as the table says.

The URL list comes from the resolver, so a new view without a row here fails this test. Object URLs are requested
with objects of organisation A, so other organisations' users try them too (IDOR)."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from advisories import services
from advisories.csaf import signing
from advisories.models import LeakIncident, WebhookEndpoint
from compliance import services as compliance_services
from core.levels import AccessLevel
from core.roles import COMPLIANCE_OFFICERS
from partners import services as partner_services
from tests.factories import (
    ComplianceReviewFactory,
    HandlingAcknowledgementFactory,
    InvitationFactory,
    JurisdictionPolicyFactory,
    PartnerApplicationFactory,
    UserFactory,
    WaveFactory,
)

PERSONAS = ("anonymous", "analyst_a", "admin_a", "user_b", "suspended", "capped", "manager", "compliance")
PARTNER_PERSONAS = ("analyst_a", "admin_a", "user_b", "suspended", "capped")
STAFF_PERSONAS = ("manager", "compliance")

# Outcomes: an HTTP status, "login" (redirect to the login page) or "redirect" (any other redirect). The Django admin
# (everything under /manage/) is checked by one rule below.
LOGIN = "login"
REDIRECT = "redirect"


def row(anonymous, analyst_a, admin_a, user_b, suspended, capped, manager, compliance):
    return dict(
        zip(PERSONAS, (anonymous, analyst_a, admin_a, user_b, suspended, capped, manager, compliance), strict=True)
    )


PUBLIC_PAGE = row(200, 200, 200, 200, 200, 200, 200, 200)
SIGNED_IN_REDIRECT = row(LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT)
POST_ONLY = row(405, 405, 405, 405, 405, 405, 405, 405)
# Pages of the partner portal that every member of an organisation with access may open.
PARTNER_PAGE = row(LOGIN, 200, 200, 200, 403, 200, 404, 404)
# Pages every member may open, even while the organisation has no access (notices explain why).
PARTNER_MEMBER_PAGE = row(LOGIN, 200, 200, 200, 200, 200, 404, 404)
# Staff pages for program managers: partners are told nothing exists, other staff are refused.
PROGRAM_MANAGER_PAGE = row(LOGIN, 404, 404, 404, 404, 404, 200, 403)
# Leak investigations: compliance officers only; to everyone else they do not exist.
COMPLIANCE_OFFICER_PAGE = row(LOGIN, 404, 404, 404, 404, 404, 404, 200)
API_ENDPOINT = row(401, 401, 401, 401, 401, 401, 401, 401)
TOKEN_ONLY = API_ENDPOINT
# Staff pages for both staff roles.
STAFF_PAGE = row(LOGIN, 404, 404, 404, 404, 404, 200, 200)
# Violations in depth, enforcement, appeals, policies, reviews: compliance officers only; program managers refused.
COMPLIANCE_ONLY_PAGE = row(LOGIN, 404, 404, 404, 404, 404, 403, 200)
# Appeals in the portal: partner admins only (every other persona of an organisation here is an analyst).
PARTNER_ADMIN_PAGE = row(LOGIN, 403, 200, 403, 403, 403, 404, 404)
# Editing an advisory: only its assigned managers (the `manager` persona is not assigned to advisory X).
ASSIGNED_MANAGER_PAGE = row(LOGIN, 404, 404, 404, 404, 404, 403, 403)

# Advisory X is released to A at the early level and to the capped organisation at the generic level; B never
# received it; the suspended organisation received it before its suspension.
MATRIX = {
    "healthz": PUBLIC_PAGE,
    "readyz": PUBLIC_PAGE,
    "home": row(LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
    "login": row(200, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
    "logout": POST_ONLY,
    "mfa_setup": SIGNED_IN_REDIRECT,
    "mfa_verify": SIGNED_IN_REDIRECT,
    # Everyone's own second factor; changing it needs a code entered in the last minutes (force_login has none).
    "account_security": row(LOGIN, 200, 200, 200, 200, 200, 200, 200),
    "account_reverify": row(LOGIN, 200, 200, 200, 200, 200, 200, 200),
    "account_add_authenticator": SIGNED_IN_REDIRECT,
    "account_remove_authenticator": POST_ONLY,
    "account_recovery_codes": POST_ONLY,
    "password_reset": PUBLIC_PAGE,
    "password_reset_done": PUBLIC_PAGE,
    "password_reset_confirm": PUBLIC_PAGE,
    "password_reset_complete": PUBLIC_PAGE,
    "advisories:list": PARTNER_PAGE,
    # Analyst A has acknowledged X's handling terms; admin A and the capped user are sent to do so first.
    "advisories:detail": row(LOGIN, 200, REDIRECT, 404, 403, REDIRECT, 404, 404),
    "advisories:artifact": row(LOGIN, 200, REDIRECT, 404, 403, 404, 404, 404),
    "advisories:acknowledge": row(LOGIN, REDIRECT, 200, 404, 403, 200, 404, 404),
    "advisories:notices": PARTNER_MEMBER_PAGE,
    "advisories:notices_read": POST_ONLY,
    "advisories:notice_preferences": PARTNER_MEMBER_PAGE,
    # The partner dashboard explains a suspension too, so every member may open it.
    "advisories:dashboard": PARTNER_MEMBER_PAGE,
    "program_advisories:list": PROGRAM_MANAGER_PAGE,
    "program_advisories:create": PROGRAM_MANAGER_PAGE,
    "program_advisories:preview": POST_ONLY,
    "program_advisories:variant_proposals": POST_ONLY,
    "program_advisories:calendar": PROGRAM_MANAGER_PAGE,
    "program_advisories:calendar_list": PROGRAM_MANAGER_PAGE,
    "program_advisories:detail": PROGRAM_MANAGER_PAGE,
    "program_advisories:edit": ASSIGNED_MANAGER_PAGE,
    "program_advisories:document": ASSIGNED_MANAGER_PAGE,
    "program_advisories:artifact_upload": ASSIGNED_MANAGER_PAGE,
    "program_advisories:detection_indicator_add": POST_ONLY,
    "program_advisories:artifact": PROGRAM_MANAGER_PAGE,
    "program_advisories:plan": ASSIGNED_MANAGER_PAGE,
    "program_advisories:plan_cancel": POST_ONLY,
    "program_advisories:withdraw": ASSIGNED_MANAGER_PAGE,
    "program_advisories:assign_manager": POST_ONLY,
    "program_advisories:wave": PROGRAM_MANAGER_PAGE,
    "compliance:contract_list": STAFF_PAGE,
    "compliance:contract_publish": PROGRAM_MANAGER_PAGE,
    "compliance:contract_version": STAFF_PAGE,
    "compliance:signing_status": STAFF_PAGE,
    "compliance:staff_agreement": STAFF_PAGE,
    "compliance:partner_agreements": PARTNER_MEMBER_PAGE,
    "compliance:partner_sign": PARTNER_MEMBER_PAGE,
    # Agreement 1 is organisation A's NDA.
    "compliance:partner_agreement": row(LOGIN, 200, 200, 404, 404, 404, 404, 404),
    "advisories:api_tokens": row(LOGIN, 403, 200, 403, 403, 403, 404, 404),
    "advisories:revoke_api_token": POST_ONLY,
    "advisories:webhooks": PARTNER_ADMIN_PAGE,
    "advisories:webhook": PARTNER_ADMIN_PAGE,
    "advisories:webhook_rotate": POST_ONLY,
    "advisories:webhook_test": POST_ONLY,
    "advisories:webhook_disable": POST_ONLY,
    "advisories:webhook_enable": POST_ONLY,
    "advisories:webhook_delete": POST_ONLY,
    "advisories:csaf": row(LOGIN, 200, REDIRECT, 404, 403, REDIRECT, 404, 404),
    "advisories:stix": row(LOGIN, 200, REDIRECT, 404, 403, REDIRECT, 404, 404),
    # The partner API authenticates organisations' tokens only (tests/api/ covers tokens); a browser session is
    # not a credential there.
    "api:schema": PUBLIC_PAGE,
    "api:docs": PUBLIC_PAGE,
    "api:redoc": PUBLIC_PAGE,
    "api:advisories": API_ENDPOINT,
    "api:advisory": API_ENDPOINT,
    "api:csaf": API_ENDPOINT,
    "api:stix": API_ENDPOINT,
    "api:artifact": API_ENDPOINT,
    "api/v1/^": API_ENDPOINT,
    # The CSAF provider directory (tests/api/test_csaf_provider.py): public metadata, key and service document; a
    # browser session is not a credential, so the TLP:AMBER folder of advisory X (label "amber") asks everyone for
    # a token.
    "csaf_provider:metadata": PUBLIC_PAGE,
    "csaf_provider:public_key": PUBLIC_PAGE,
    "csaf_provider:service": PUBLIC_PAGE,
    "csaf_provider:feed": TOKEN_ONLY,
    "csaf_provider:folder": TOKEN_ONLY,
    "csaf_provider:index": TOKEN_ONLY,
    "csaf_provider:changes": TOKEN_ONLY,
    "csaf_provider:year_folder": TOKEN_ONLY,
    "csaf_provider:document": TOKEN_ONLY,
    "csaf_provider:document_sha256": TOKEN_ONLY,
    "csaf_provider:document_sha512": TOKEN_ONLY,
    "csaf_provider:document_signature": TOKEN_ONLY,
    "leaks:list": COMPLIANCE_OFFICER_PAGE,
    "leaks:detail": COMPLIANCE_OFFICER_PAGE,
    "leaks:add_sample": POST_ONLY,
    "leaks:open_violation": COMPLIANCE_OFFICER_PAGE,
    "partners:apply": PUBLIC_PAGE,
    "partners:application_sent": PUBLIC_PAGE,
    "partners:verify_application": PUBLIC_PAGE,
    # A forged or unknown invitation token is a bad request for anyone.
    "partners:accept_invitation": row(400, 400, 400, 400, 400, 400, 400, 400),
    # Team management: partner admins only (every other persona of an organisation here is an analyst).
    "partners:team": row(LOGIN, 403, 200, 403, 403, 403, 404, 404),
    "partners:deactivate_member": POST_ONLY,
    "partners:revoke_invitation": POST_ONLY,
    "program:application_list": PROGRAM_MANAGER_PAGE,
    "program:application_detail": PROGRAM_MANAGER_PAGE,
    "program:application_start_review": POST_ONLY,
    "program:application_checklist": POST_ONLY,
    "program:application_note": POST_ONLY,
    "program:application_approve": POST_ONLY,
    "program:application_reject": POST_ONLY,
    "program:partner_list": STAFF_PAGE,
    "program:partner_detail": STAFF_PAGE,
    "program:partner_suspend": POST_ONLY,
    "program:partner_reinstate": POST_ONLY,
    "program:partner_change_level": POST_ONLY,
    "program:partner_remove": POST_ONLY,
    "program:partner_invite": POST_ONLY,
    "program:partner_team_settings": POST_ONLY,
    "program:partner_member_reset_second_factor": POST_ONLY,
    # Protection status and indicators: like the advisory page, after the handling acknowledgement.
    "advisories:protection": row(LOGIN, 200, REDIRECT, 404, 403, REDIRECT, 404, 404),
    "advisories:indicators": row(LOGIN, 200, REDIRECT, 404, 403, REDIRECT, 404, 404),
    "protection:coverage": STAFF_PAGE,
    "protection:partner_record": STAFF_PAGE,
    "api:protection": API_ENDPOINT,
    "api:indicators": API_ENDPOINT,
    "program:dashboard": STAFF_PAGE,
    "program:reports": STAFF_PAGE,
    "program:partners_csv": STAFF_PAGE,
    "program:deliveries_csv": STAFF_PAGE,
    "program:downloads_csv": STAFF_PAGE,
    # Advisory X is released, so need-to-know lets every program manager read its distribution.
    "program:distribution_report": STAFF_PAGE,
    "compliance:violation_list": STAFF_PAGE,
    "compliance:violation_report": STAFF_PAGE,
    "compliance:violation_detail": COMPLIANCE_ONLY_PAGE,
    "compliance:violation_transition": POST_ONLY,
    "compliance:violation_note": POST_ONLY,
    "compliance:violation_evidence": POST_ONLY,
    "compliance:evidence_download": COMPLIANCE_ONLY_PAGE,
    "compliance:violation_enforce": POST_ONLY,
    "compliance:appeal_queue": COMPLIANCE_ONLY_PAGE,
    "compliance:appeal_detail": COMPLIANCE_ONLY_PAGE,
    "compliance:policy_list": COMPLIANCE_ONLY_PAGE,
    "compliance:review_list": COMPLIANCE_ONLY_PAGE,
    "compliance:review_detail": COMPLIANCE_ONLY_PAGE,
    "compliance:partner_appeals": PARTNER_ADMIN_PAGE,
    # The warning given to organisation A.
    "compliance:partner_appeal_file": PARTNER_ADMIN_PAGE,
}

# What non-staff get on the staff site where it is not the login page: its logout just redirects.
STAFF_SITE_EXCEPTIONS = {"admin:logout": REDIRECT}


def _all_patterns(resolver=None, namespace="", prefix=""):
    """(name or None, full route) of every URL pattern, through includes and namespaces."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _all_patterns(entry, inner, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield (f"{namespace}{entry.name}" if entry.name else None), prefix + str(entry.pattern)


def _concrete_path(route: str, values: dict) -> str:
    """The route with every parameter filled in from `values` (1 for any parameter not named there)."""
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(values.get(match[1], 1)), route)
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda match: str(values.get(match[1], 1)), path)
    return "/" + path.replace("^", "").replace("$", "")


def _is_staff_site(route: str) -> bool:
    return route.startswith("manage/")


@pytest.fixture
def world(make_partner, member_of, advisory, manager):
    organisation_a = make_partner(level=AccessLevel.EARLY, legal_name="Organisation A")
    suspended = make_partner(level=AccessLevel.EARLY, legal_name="Suspended Org")
    capped = make_partner(level=AccessLevel.EARLY, legal_name="Capped Org", country="CN")
    JurisdictionPolicyFactory(country="CN", cap_level=AccessLevel.GENERIC)
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=timezone.now())
    services.release_due_waves()
    generic = WaveFactory(advisory=advisory, level=AccessLevel.GENERIC, scheduled_at=timezone.now())
    # The generic wave released ahead of the others (a state only this fixture builds): due to the capped
    # organisation alone, through the one delivery path.
    generic.mark_released()
    generic.released_at = timezone.now()
    generic.save(update_fields=["status", "released_at"])
    services.deliver_due_waves(partner_ids=[capped.pk])
    WaveFactory(advisory=advisory, level=AccessLevel.STANDARD, scheduled_at=timezone.now() + timedelta(days=1))
    partner_services.suspend_partner(partner=suspended, actor=manager, reason="Leak under investigation")
    organisation_b = make_partner(level=AccessLevel.EARLY, legal_name="Organisation B")
    analyst_a = member_of(organisation_a, role="analyst")
    HandlingAcknowledgementFactory(user=analyst_a, partner=organisation_a, advisory=advisory)
    assert {d.partner_id: d.level for d in advisory.deliveries.all()} == {
        organisation_a.pk: AccessLevel.EARLY,
        suspended.pk: AccessLevel.EARLY,
        capped.pk: AccessLevel.GENERIC,
    }

    compliance_officer = UserFactory(email="officer@forewarn.test", is_staff=True)
    compliance_officer.groups.add(Group.objects.get_or_create(name=COMPLIANCE_OFFICERS)[0])
    admin_a = member_of(organisation_a, role="admin")
    violation = compliance_services.report_violation(
        actor=compliance_officer, partner=organisation_a, kind="misuse", severity="low", summary="Shared a PoC"
    )
    compliance_services.start_investigation(violation=violation, actor=compliance_officer, note="Looking")
    compliance_services.substantiate_violation(violation=violation, actor=compliance_officer, note="Confirmed")
    evidence = compliance_services.attach_evidence(
        violation=violation, actor=compliance_officer, uploaded_file=SimpleUploadedFile("log.txt", b"log line\n")
    )
    warning = compliance_services.issue_warning(violation=violation, actor=compliance_officer, reason="First warning")
    appeal = compliance_services.file_appeal(actor=admin_a, action=warning, statement="It was a test system.")
    review = ComplianceReviewFactory(partner=organisation_a)
    users = {
        "anonymous": None,
        "analyst_a": analyst_a,
        "admin_a": admin_a,
        "user_b": member_of(organisation_b),
        "suspended": member_of(suspended),
        "capped": member_of(capped),
        "manager": manager,
        "compliance": compliance_officer,
    }
    values = {
        "identifier": advisory.identifier,
        "artifact_id": advisory.artifacts.get(level=AccessLevel.EARLY).pk,
        "uidb64": "MQ",
        "token": "set-password",
        "object_id": "1",
        "pk": organisation_a.agreements.order_by("pk").first().pk,
        "application_id": PartnerApplicationFactory().pk,
        "incident_id": LeakIncident.objects.create(
            advisory=advisory,
            observed_at=timezone.now(),
            description="PoC seen on a forum",
            opened_by=compliance_officer,
        ).pk,
        "partner_id": organisation_a.pk,
        "membership_id": analyst_a.membership.pk,
        "invitation_id": InvitationFactory(partner=organisation_a).pk,
        "version_id": organisation_a.agreements.order_by("pk").first().contract_version_id,
        "level": "standard",
        "app_label": "advisories",
        "content_type_id": "1",
        "url": "nowhere",
        "violation_id": violation.pk,
        "evidence_id": evidence.pk,
        "action_id": warning.pk,
        "appeal_id": appeal.pk,
        "review_id": review.pk,
        "label": "amber",
        "year": timezone.now().year,
        "filename": f"{advisory.identifier.lower()}.json",
        "fingerprint": signing.fingerprint(),
        "endpoint_id": WebhookEndpoint.objects.create(
            partner=organisation_a, url="https://93.184.216.34/hook", secret="whsec_dGVzdA==", created_by=admin_a
        ).pk,
    }
    return users, values


def _pk_for(name, route, values):
    """`pk` means a different object on different routes; the database sequences differ between SQLite and
    PostgreSQL (and with the tests run before), so each gets its own object rather than a shared number."""
    if name == "compliance:contract_version":
        return values["version_id"]
    return values["pk"]


def _outcome(response):
    if response.status_code in (301, 302):
        # The admin sends people to its own login address, which forwards to the one login page.
        login_pages = (reverse("login"), reverse("admin:login"))
        return LOGIN if response["Location"].startswith(login_pages) else REDIRECT
    return response.status_code


@pytest.mark.django_db
def test_every_url_answers_every_persona_as_the_matrix_says(client, world):
    users, values = world
    patterns = list(_all_patterns())
    unexplained = [
        name or route for name, route in patterns if not _is_staff_site(route) and (name or route) not in MATRIX
    ]
    assert unexplained == [], "URL patterns without a row in the authorization matrix"

    wrong = []
    for persona in PERSONAS:
        client.logout()
        if users[persona] is not None:
            client.force_login(users[persona])
        for name, route in patterns:
            route_values = {**values, "pk": _pk_for(name, route, values)}
            outcome = _outcome(client.get(_concrete_path(route, route_values)))
            if _is_staff_site(route):
                # The Django admin: only staff get past its login; it must never fail for them.
                expected_for_others = STAFF_SITE_EXCEPTIONS.get(name, LOGIN)
                allowed = outcome == expected_for_others if persona not in STAFF_PERSONAS else outcome != 500
                if not allowed:
                    wrong.append((route, persona, outcome))
            elif outcome != MATRIX[name or route][persona]:
                wrong.append((name or route, persona, f"got {outcome}, expected {MATRIX[name or route][persona]}"))
    assert wrong == [], "\n".join(map(str, wrong))
