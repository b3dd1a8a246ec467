"""Need-to-know on every staff surface: a scheduled advisory's title and content reach only its assigned managers
(and compliance officers on their investigation pages), in program pages, the admin, the audit log, the calendar,
the dashboard, CSV exports and searches; and every service acting on an advisory requires an assigned manager."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from advisories import need_to_know, services
from advisories.models import TLP, AdvisoryStatus, Artifact, ReleaseCohort, WaveStatus
from core.levels import AccessLevel
from core.models import AuditEvent
from tests.factories import AdvisoryFactory, ComplianceOfficerFactory, WaveFactory

TITLE = "Zero-day in Acme firewall"
CVE = "CVE-2026-7777"
SECRETS = (TITLE, "Zero-day", CVE, "Acme firewall", "Secret details of the flaw", "acme-exploit")


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _assert_nothing_secret(text: str, searched: str = "") -> None:
    """No secret in the page, apart from the search term the page repeats in its search box."""
    if searched:
        text = text.replace(f'value="{searched}"', "")
    assert [secret for secret in SECRETS if secret in text] == []


def _searched(url: str) -> str:
    return url.partition("?q=")[2]


@pytest.fixture(autouse=True)
def roles(db):
    call_command("sync_roles", verbosity=0)


@pytest.fixture
def secret(manager, make_partner, hours_from_now):
    """A scheduled advisory with a document, a file, a release plan and a cohort, all by its assigned manager,
    then renamed (the audit log keeps the former title in its details)."""
    advisory = services.create_advisory(
        actor=manager,
        title="Acme firewall issue (working title)",
        public_release_at=hours_from_now(72),
        cve_ids=[CVE],
        affected_products="Acme firewall 9",
    )
    services.update_advisory(
        actor=manager,
        advisory=advisory,
        title=TITLE,
        cve_ids=[CVE],
        affected_products="",
        cvss_vector="",
        tlp=TLP.AMBER,
    )
    services.save_document(
        actor=manager, advisory=advisory, level=1, title="Summary", body_markdown="Secret details of the flaw."
    )
    services.add_artifact(
        actor=manager,
        advisory=advisory,
        level=AccessLevel.EARLY,
        name="acme-exploit",
        description="",
        uploaded_file=ContentFile(b"print('poc')\n", name="poc.py"),
    )
    services.set_release_plan(
        actor=manager,
        advisory=advisory,
        early_at=hours_from_now(24),
        standard_at=hours_from_now(48),
        public_release_at=hours_from_now(72),
    )
    advisory.refresh_from_db()
    early = advisory.waves.get(level=AccessLevel.EARLY)
    services.plan_release_cohort(
        actor=manager, wave=early, name="late", scheduled_at=hours_from_now(30), partners=[make_partner()]
    )
    assert advisory.status == AdvisoryStatus.SCHEDULED
    return advisory


@pytest.fixture
def officer(db):
    return ComplianceOfficerFactory(email="officer@example.test")


# Program pages, calendar, dashboard, search, CSV ---------------------------------------------------------------------


def _program_pages(advisory):
    month = f"{advisory.public_release_at:%Y-%m}"
    return [
        reverse("program_advisories:list"),
        reverse("program_advisories:list") + f"?q={CVE}",
        reverse("program_advisories:detail", args=[advisory.identifier]),
        reverse("program_advisories:wave", args=[advisory.identifier, "early"]),
        reverse("program_advisories:calendar") + f"?month={month}",
        reverse("program_advisories:calendar_list"),
        reverse("program:dashboard"),
        reverse("program:distribution_report", args=[advisory.identifier]),
        reverse("protection:coverage", args=[advisory.identifier]),
    ]


@pytest.mark.django_db
def test_an_unassigned_manager_sees_no_title_or_content_on_any_program_page(other_manager, secret):
    client = _client(other_manager)

    for url in _program_pages(secret):
        response = client.get(url)
        assert response.status_code in (200, 403), url
        _assert_nothing_secret(response.text, searched=_searched(url))


@pytest.mark.django_db
def test_the_assigned_manager_sees_the_title_on_the_program_pages(manager, secret):
    client = _client(manager)
    month = f"{secret.public_release_at:%Y-%m}"

    for url in (
        reverse("program_advisories:list"),
        reverse("program_advisories:detail", args=[secret.identifier]),
        reverse("program_advisories:calendar") + f"?month={month}",
        reverse("program:dashboard"),
    ):
        assert TITLE[:30] in client.get(url).text, url


@pytest.mark.django_db
def test_a_search_by_cve_finds_the_advisory_only_for_those_who_may_see_it(manager, other_manager, secret):
    url = reverse("program_advisories:list") + f"?q={CVE}"

    assert secret.identifier in _client(manager).get(url).text
    assert secret.identifier not in _client(other_manager).get(url).text


@pytest.mark.django_db
def test_the_csv_exports_carry_no_title(other_manager, secret):
    client = _client(other_manager)

    for name in ("program:partners_csv", "program:deliveries_csv", "program:downloads_csv"):
        response = client.get(reverse(name))
        _assert_nothing_secret(b"".join(response.streaming_content).decode())


@pytest.mark.django_db
def test_an_advisory_withdrawn_before_release_stays_need_to_know(manager, other_manager, secret):
    services.withdraw_advisory(actor=manager, advisory=secret, reason="Duplicate of a vendor advisory.")

    response = _client(other_manager).get(reverse("program_advisories:detail", args=[secret.identifier]))

    assert response.status_code == 403
    _assert_nothing_secret(response.text)
    assert not need_to_know.can_view_content(other_manager, secret)


@pytest.mark.django_db
def test_compliance_officers_see_the_title_only_where_their_pages_say_so(officer, secret):
    client = _client(officer)

    report = client.get(reverse("program:distribution_report", args=[secret.identifier]))
    dashboard = client.get(reverse("program:dashboard"))

    assert TITLE in report.text
    _assert_nothing_secret(dashboard.text)


# Admin -------------------------------------------------------------------------------------------------------------


def _admin_pages(advisory):
    wave = advisory.waves.get(level=AccessLevel.EARLY)
    cohort = ReleaseCohort.objects.get(wave=wave)
    return [
        reverse("admin:advisories_advisory_changelist"),
        reverse("admin:advisories_releasewave_changelist"),
        reverse("admin:advisories_releasewave_change", args=[wave.pk]),
        reverse("admin:advisories_releasecohort_changelist"),
        reverse("admin:advisories_releasecohort_change", args=[cohort.pk]),
        reverse("admin:advisories_releasecohort_add"),
        reverse("admin:core_auditevent_changelist"),
        *[
            reverse("admin:core_auditevent_change", args=[event.pk])
            for event in AuditEvent.objects.filter(
                action__in=["advisory.created", "advisory.updated", "artifact.stored"]
            )
        ],
    ]


@pytest.mark.django_db
def test_an_unassigned_manager_sees_no_title_in_the_admin_or_the_audit_log(other_manager, secret):
    client = _client(other_manager)

    for url in _admin_pages(secret):
        response = client.get(url)
        assert response.status_code in (200, 302, 403), url
        _assert_nothing_secret(response.text)


@pytest.mark.django_db
@pytest.mark.parametrize("term", ["Zero-day", "working title", "acme-exploit"])
def test_searching_the_audit_log_by_title_finds_nothing_for_an_unassigned_manager(other_manager, secret, term):
    url = reverse("admin:core_auditevent_changelist") + f"?q={term}"

    assert "0 results" in _client(other_manager).get(url).text


@pytest.mark.django_db
def test_the_audit_log_names_the_advisory_by_identifier_to_an_unassigned_manager(other_manager, secret):
    updated = AuditEvent.objects.get(action="advisory.updated")

    listing = _client(other_manager).get(reverse("admin:core_auditevent_changelist") + f"?q={secret.identifier}")
    record = _client(other_manager).get(reverse("admin:core_auditevent_change", args=[updated.pk]))

    assert f"Advisory of {secret.identifier} (restricted: need-to-know)" in listing.text
    assert "withheld: need-to-know" in record.text


@pytest.mark.django_db
def test_the_assigned_manager_reads_the_audit_events_in_full(manager, secret):
    updated = AuditEvent.objects.get(action="advisory.updated")

    record = _client(manager).get(reverse("admin:core_auditevent_change", args=[updated.pk]))
    found = _client(manager).get(reverse("admin:core_auditevent_changelist") + "?q=acme-exploit")

    assert "Acme firewall issue (working title)" in record.text
    assert "artifact.stored" in found.text


@pytest.mark.django_db
def test_audit_events_name_an_advisory_by_its_identifier_only(secret):
    labels = set(AuditEvent.objects.filter(target_type="advisories.Advisory").values_list("target_label", flat=True))

    assert labels == {secret.identifier}


@pytest.mark.django_db
def test_the_admin_offers_only_the_waves_of_ones_own_advisories_for_a_cohort(
    manager, other_manager, secret, make_partner
):
    wave = secret.waves.get(level=AccessLevel.STANDARD)
    data = {
        "wave": wave.pk,
        "name": "sneaky",
        "scheduled_at_0": (wave.scheduled_at + timedelta(hours=1)).strftime("%Y-%m-%d"),
        "scheduled_at_1": (wave.scheduled_at + timedelta(hours=1)).strftime("%H:%M:%S"),
        "partners": [make_partner().pk],
    }

    refused = _client(other_manager).post(reverse("admin:advisories_releasecohort_add"), data)
    accepted = _client(manager).post(reverse("admin:advisories_releasecohort_add"), {**data, "name": "planned"})

    assert refused.status_code == 200 and "Select a valid choice" in refused.text
    assert not ReleaseCohort.objects.filter(name="sneaky").exists()
    assert accepted.status_code == 302 and ReleaseCohort.objects.filter(name="planned").exists()


@pytest.mark.django_db
def test_an_unassigned_manager_cannot_change_or_delete_a_cohort_in_the_admin(other_manager, secret):
    cohort = ReleaseCohort.objects.get()
    client = _client(other_manager)

    client.post(reverse("admin:advisories_releasecohort_change", args=[cohort.pk]), {"name": "renamed"})
    client.post(reverse("admin:advisories_releasecohort_delete", args=[cohort.pk]), {"post": "yes"})

    assert ReleaseCohort.objects.get(pk=cohort.pk).name == "late"


# Services ----------------------------------------------------------------------------------------------------------


def _service_calls(advisory, hours_from_now):
    wave = advisory.waves.get(level=AccessLevel.STANDARD)
    return {
        "update_advisory": lambda actor: services.update_advisory(
            actor=actor, advisory=advisory, title="x", cve_ids=[], affected_products="", cvss_vector="", tlp=TLP.AMBER
        ),
        "save_document": lambda actor: services.save_document(
            actor=actor, advisory=advisory, level=2, title="x", body_markdown="x"
        ),
        "add_artifact": lambda actor: services.add_artifact(
            actor=actor,
            advisory=advisory,
            level=2,
            name="x",
            description="",
            uploaded_file=ContentFile(b"x\n", "x.txt"),
        ),
        "store_artifact": lambda actor: services.store_artifact(
            actor=actor,
            artifact=Artifact(advisory=advisory, level=2, name="x"),
            uploaded_file=ContentFile(b"x\n", name="x.txt"),
        ),
        "assign_advisory_manager": lambda actor: services.assign_advisory_manager(
            actor=actor, advisory=advisory, manager=actor
        ),
        "set_release_plan": lambda actor: services.set_release_plan(
            actor=actor,
            advisory=advisory,
            early_at=hours_from_now(20),
            standard_at=hours_from_now(40),
            public_release_at=hours_from_now(72),
        ),
        "plan_release_cohort": lambda actor: services.plan_release_cohort(
            actor=actor, wave=wave, name="x", scheduled_at=wave.scheduled_at + timedelta(hours=1), partners=[]
        ),
        "cancel_release_plan": lambda actor: services.cancel_release_plan(actor=actor, advisory=advisory),
        "withdraw_advisory": lambda actor: services.withdraw_advisory(actor=actor, advisory=advisory, reason="x"),
    }


SERVICES = [
    "update_advisory",
    "save_document",
    "add_artifact",
    "store_artifact",
    "assign_advisory_manager",
    "set_release_plan",
    "plan_release_cohort",
    "cancel_release_plan",
    "withdraw_advisory",
]


@pytest.mark.django_db
@pytest.mark.parametrize("service", SERVICES)
def test_every_service_acting_on_an_advisory_refuses_an_unassigned_manager(
    other_manager, secret, service, hours_from_now
):
    events = AuditEvent.objects.count()

    with pytest.raises(PermissionDenied, match="assigned"):
        _service_calls(secret, hours_from_now)[service](other_manager)

    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
@pytest.mark.parametrize("service", SERVICES)
def test_every_service_acting_on_an_advisory_serves_its_assigned_manager(manager, secret, service, hours_from_now):
    _service_calls(secret, hours_from_now)[service](manager)


@pytest.mark.django_db
def test_scheduling_a_draft_requires_its_assigned_manager(manager, other_manager, hours_from_now):
    draft = services.create_advisory(actor=manager, title=TITLE, public_release_at=hours_from_now(72))
    for level, hours in ((AccessLevel.EARLY, 24), (AccessLevel.STANDARD, 48), (AccessLevel.GENERIC, 72)):
        WaveFactory(advisory=draft, level=level, scheduled_at=hours_from_now(hours))

    with pytest.raises(PermissionDenied, match="assigned"):
        services.schedule_advisory(actor=other_manager, advisory=draft)
    assert services.schedule_advisory(actor=manager, advisory=draft).status == AdvisoryStatus.SCHEDULED


@pytest.mark.django_db
def test_after_release_every_manager_and_compliance_officer_may_read_the_title(other_manager, officer):
    released = AdvisoryFactory(status=AdvisoryStatus.WITHDRAWN, title="Released then withdrawn")
    WaveFactory(advisory=released, level=AccessLevel.EARLY, scheduled_at=timezone.now() - timedelta(days=1))
    released.waves.update(status=WaveStatus.RELEASED)

    assert need_to_know.can_view_content(other_manager, released)
    assert need_to_know.can_view_content(officer, released)
