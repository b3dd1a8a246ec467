"""The manager dashboard's figures, checked against the database they are read from."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advisories import services
from advisories.models import AccessKind
from advisories.tasks import RELEASE_HEARTBEAT
from compliance.entitlements import partner_access
from core.levels import AccessLevel
from core.services import record_heartbeat
from partners import services as partner_services
from program import dashboard
from tests.factories import AgreementFactory, JurisdictionPolicyFactory, MembershipFactory, WaveFactory


@pytest.fixture
def population(make_partner, manager, nda):
    """Three active US partners (two early, one standard), one capped by its country, one suspended."""
    partners = {
        "early_1": make_partner(level=AccessLevel.EARLY, legal_name="Alpha Sec"),
        "early_2": make_partner(level=AccessLevel.EARLY, legal_name="Beta Sec"),
        "standard": make_partner(level=AccessLevel.STANDARD, legal_name="Gamma Sec"),
        "capped": make_partner(level=AccessLevel.EARLY, legal_name="Delta Sec", country="CN"),
        "suspended": make_partner(level=AccessLevel.EARLY, legal_name="Epsilon Sec", country="DE"),
    }
    JurisdictionPolicyFactory(country="CN", cap_level=AccessLevel.GENERIC)
    partner_services.suspend_partner(partner=partners["suspended"], actor=manager, reason="Under review")
    return partners


def _chart_values(chart):
    return {bar.label: bar.value for bar in chart.bars}


@pytest.mark.django_db
def test_organisations_by_status_count_the_database_rows(population):
    assert dict(dashboard.partners_by_status()) == {"Active": 4, "Suspended": 1, "Removed": 0}


@pytest.mark.django_db
def test_organisations_by_effective_level_follow_the_entitlement_rule(population):
    assert dict(dashboard.partners_by_effective_level(timezone.now())) == {
        "none": 1,  # suspended
        "generic": 1,  # capped by its country
        "standard": 1,
        "early": 2,
    }


@pytest.mark.django_db
def test_organisations_by_country_put_the_largest_first(population):
    assert dashboard.partners_by_country() == [("United States of America", 3), ("China", 1), ("Germany", 1)]


@pytest.mark.django_db
def test_countries_beyond_the_limit_are_summed_as_other_countries(population):
    assert dashboard.partners_by_country(limit=1) == [("United States of America", 3), ("Other countries", 2)]


@pytest.mark.django_db
def test_the_next_30_days_list_waves_and_mark_the_public_release(advisory):
    now = timezone.now()
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=now + timedelta(days=2))
    WaveFactory(advisory=advisory, level=AccessLevel.GENERIC, scheduled_at=now + timedelta(days=7))
    WaveFactory(advisory=advisory, level=AccessLevel.STANDARD, scheduled_at=now + timedelta(days=31))

    upcoming = dashboard.upcoming_releases(user=advisory_manager(advisory), at=now)

    assert [(item.wave.level, item.is_public_release) for item in upcoming] == [
        (AccessLevel.EARLY, False),
        (AccessLevel.GENERIC, True),
    ]


def advisory_manager(advisory):
    from tests.factories import ProgramManagerFactory

    return ProgramManagerFactory(email="calendar@example.test")


@pytest.mark.django_db
def test_an_unassigned_manager_sees_no_title_of_an_unreleased_advisory(advisory, manager):
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=timezone.now() + timedelta(days=2))

    (item,) = dashboard.upcoming_releases(user=manager, at=timezone.now())

    assert item.title_visible is False


def _released_to(partner, advisory, member):
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=timezone.now() - timedelta(seconds=1))
    services.release_due_waves()
    return partner_access(member)


@pytest.mark.django_db
def test_downloads_per_advisory_count_events_per_utc_day(make_partner, member_of, advisory):
    partner = make_partner()
    member = member_of(partner)
    access = _released_to(partner, advisory, member)
    with time_machine.travel(timezone.now() - timedelta(days=2), tick=False):
        services.record_access(access=access, user=member, advisory=advisory, kind=AccessKind.VIEW)
    for _ in range(3):
        services.record_access(access=access, user=member, advisory=advisory, kind=AccessKind.VIEW)
    now = timezone.now()

    first_day, (series,) = dashboard.downloads_per_advisory(at=now)

    assert first_day == (now - timedelta(days=29)).date()
    assert (series.identifier, series.total) == (advisory.identifier, 4)
    assert series.daily[-1] == 3 and series.daily[-3] == 1 and sum(series.daily) == 4


@pytest.mark.django_db
def test_downloads_older_than_30_days_are_left_out(make_partner, member_of, advisory):
    partner = make_partner()
    member = member_of(partner)
    access = _released_to(partner, advisory, member)
    with time_machine.travel(timezone.now() - timedelta(days=31), tick=False):
        services.record_access(access=access, user=member, advisory=advisory, kind=AccessKind.VIEW)

    assert dashboard.downloads_per_advisory(at=timezone.now())[1] == []


@pytest.mark.django_db
def test_agreements_expiring_within_30_days_are_listed_soonest_first(make_partner, nda, poc_addendum):
    now = timezone.now()
    soon = make_partner(legal_name="Soon Ltd", contracts=[poc_addendum])
    AgreementFactory(partner=soon, contract_version=nda, valid_until=now + timedelta(days=10))
    later = make_partner(legal_name="Later Ltd", contracts=[poc_addendum])
    AgreementFactory(partner=later, contract_version=nda, valid_until=now + timedelta(days=20))
    make_partner(legal_name="Safe Ltd")

    rows = [(row.partner.legal_name, row.contract) for row in dashboard.expiring_agreements(now)]

    assert rows[:2] == [("Soon Ltd", nda.title), ("Later Ltd", nda.title)]
    assert "Safe Ltd" not in {name for name, _ in rows}


@pytest.mark.django_db
def test_the_pipeline_is_stalled_when_the_release_task_never_ran(db):
    pipeline = dashboard.release_pipeline(timezone.now())

    assert pipeline.stalled is True and pipeline.last_tick_at is None


@pytest.mark.django_db
def test_the_pipeline_is_running_after_a_recent_tick_with_nothing_due(db):
    record_heartbeat(name=RELEASE_HEARTBEAT)

    pipeline = dashboard.release_pipeline(timezone.now())

    assert pipeline.stalled is False and pipeline.due_waves == []


@pytest.mark.django_db
def test_a_due_wave_waiting_for_minutes_shows_a_stalled_worker(advisory):
    record_heartbeat(name=RELEASE_HEARTBEAT)
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=timezone.now() - timedelta(minutes=5))

    pipeline = dashboard.release_pipeline(timezone.now())

    assert (pipeline.stalled, len(pipeline.due_waves), pipeline.late_waves) == (True, 1, 1)


@pytest.mark.django_db
def test_the_dashboard_page_shows_the_figures(client, manager, population):
    client.force_login(manager)

    body = client.get(reverse("program:dashboard")).content.decode()

    assert 'aria-label="Organisations by status: Active 4, Suspended 1, Removed 0"' in body
    assert 'aria-label="Organisations by effective level: none 1, generic 1, standard 1, early 2"' in body
    assert "Stalled" in body  # no release task has run in this database


@pytest.mark.django_db
def test_a_compliance_officer_opens_the_dashboard(client, compliance_officer):
    client.force_login(compliance_officer)

    assert client.get(reverse("program:dashboard")).status_code == 200


@pytest.mark.django_db
def test_home_sends_a_compliance_officer_to_the_dashboard(client, compliance_officer):
    client.force_login(compliance_officer)

    assert client.get(reverse("home")).url == reverse("program:dashboard")


@pytest.mark.django_db
def test_the_dashboard_runs_the_same_number_of_queries_for_5_or_30_partners(client, manager, make_partner):
    client.force_login(manager)

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("program:dashboard")).status_code == 200
        return len(queries)

    for number in range(5):
        MembershipFactory(partner=make_partner(legal_name=f"Small {number}"))
    few = count_queries()
    for number in range(25):
        MembershipFactory(partner=make_partner(legal_name=f"Big {number}", country="FR"))

    assert count_queries() == few


@pytest.mark.django_db
def test_compliance_work_counts_open_violations_and_overdue_reviews_from_the_database(make_partner, manager_client):
    from compliance.models import ViolationStatus
    from tests.factories import ComplianceReviewFactory, ViolationFactory

    partner = make_partner()
    ViolationFactory(partner=partner)
    ViolationFactory(partner=partner, status=ViolationStatus.INVESTIGATING)
    ViolationFactory(partner=partner, status=ViolationStatus.DISMISSED)
    ComplianceReviewFactory(partner=partner, due_at=timezone.now() - timedelta(days=60))
    ComplianceReviewFactory(partner=make_partner(), due_at=timezone.now())

    work = dashboard.compliance_work(timezone.now())
    response = manager_client.get(reverse("program:dashboard"))

    assert work.open_violation_count == 2
    assert work.overdue_review_count == 1
    assert [review.partner for review in work.overdue_reviews] == [partner]
    assert response.context["compliance"].open_violation_count == 2
    assert "Overdue reviews" in response.text
