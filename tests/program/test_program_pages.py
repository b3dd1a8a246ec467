"""Program pages read well at scale and show times unambiguously: constant query counts, UTC times marked up for
the viewer's zone, a calendar of waves that keeps need-to-know, no inline script."""

import re

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from advisories import services
from advisories.models import AdvisoryStatus, DownloadEvent
from core.levels import AccessLevel
from tests.factories import AdvisoryFactory, WaveFactory


def _query_count(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.django_db
def test_advisory_list_query_count_does_not_grow_with_advisories(manager_client, hours_from_now):
    url = reverse("program_advisories:list")
    AdvisoryFactory(status=AdvisoryStatus.DRAFT)
    few = _query_count(manager_client, url)
    for _ in range(10):
        advisory = AdvisoryFactory(status=AdvisoryStatus.SCHEDULED)
        WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=hours_from_now(1))

    assert _query_count(manager_client, url) == few


@pytest.mark.django_db
def test_calendar_query_counts_do_not_grow_with_waves(manager_client, hours_from_now):
    month = f"{hours_from_now(1):%Y-%m}"
    urls = [f"{reverse('program_advisories:calendar')}?month={month}", reverse("program_advisories:calendar_list")]
    WaveFactory(advisory=AdvisoryFactory(), scheduled_at=hours_from_now(1))
    few = [_query_count(manager_client, url) for url in urls]
    for _ in range(10):
        WaveFactory(advisory=AdvisoryFactory(), scheduled_at=hours_from_now(1))

    assert [_query_count(manager_client, url) for url in urls] == few


@pytest.mark.django_db
def test_release_preview_and_deliveries_query_counts_do_not_grow_with_partners(
    manager, manager_client, make_partner, member_of, hours_from_now
):
    advisory = services.create_advisory(actor=manager, title="Scale", public_release_at=hours_from_now(3))
    services.set_release_plan(
        actor=manager, advisory=advisory, early_at=hours_from_now(1), public_release_at=hours_from_now(3)
    )
    url = reverse("program_advisories:wave", args=[advisory.identifier, "early"])
    make_partner(level=AccessLevel.EARLY)
    preview_few = _query_count(manager_client, url)
    for _ in range(8):
        make_partner(level=AccessLevel.EARLY)
    assert _query_count(manager_client, url) == preview_few

    with time_machine.travel(hours_from_now(1), tick=False):
        services.release_due_waves()
    deliveries_few = _query_count(manager_client, url)
    for delivery in advisory.deliveries.select_related("partner"):
        user = member_of(delivery.partner)
        DownloadEvent.objects.create(
            user=user, partner=delivery.partner, advisory=advisory, delivery=delivery, kind="view"
        )
    assert _query_count(manager_client, url) == deliveries_few


@pytest.mark.django_db
def test_times_are_shown_in_utc_and_marked_up_for_the_local_zone(manager_client, manager, hours_from_now):
    advisory = services.create_advisory(actor=manager, title="Times", public_release_at=hours_from_now(3))

    response = manager_client.get(reverse("program_advisories:detail", args=[advisory.identifier]))

    moment = hours_from_now(3)
    assert (
        f'<time datetime="{moment:%Y-%m-%dT%H:%M:%SZ}" data-local-time>{moment:%Y-%m-%d %H:%M} UTC</time>'
        in response.text
    )
    assert 'src="/static/js/local-time.js"' in response.text


@pytest.mark.django_db
def test_calendar_shows_waves_but_titles_only_to_assigned_managers(manager, other_manager, hours_from_now):
    advisory = services.create_advisory(actor=manager, title="Secret title", public_release_at=hours_from_now(3))
    services.set_release_plan(
        actor=manager, advisory=advisory, early_at=hours_from_now(1), public_release_at=hours_from_now(3)
    )
    url = reverse("program_advisories:calendar_list")

    assigned, unassigned = Client(), Client()
    assigned.force_login(manager)
    unassigned.force_login(other_manager)

    assert "Secret title" in assigned.get(url).text
    page = unassigned.get(url).text
    assert advisory.identifier in page
    assert "Secret title" not in page


@pytest.mark.django_db
def test_program_pages_carry_no_inline_script(manager_client, manager, hours_from_now):
    advisory = services.create_advisory(actor=manager, title="No inline", public_release_at=hours_from_now(3))
    pages = [
        reverse("program_advisories:list"),
        reverse("program_advisories:create"),
        reverse("program_advisories:detail", args=[advisory.identifier]),
        reverse("program_advisories:document", args=[advisory.identifier, "standard"]),
        reverse("program_advisories:plan", args=[advisory.identifier]),
        reverse("program_advisories:calendar"),
    ]
    for url in pages:
        html = manager_client.get(url).text
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == [], url
        assert "on" + "click=" not in html


@pytest.mark.django_db
def test_document_editor_wires_the_live_preview(manager_client, manager, hours_from_now):
    advisory = services.create_advisory(actor=manager, title="Preview", public_release_at=hours_from_now(3))

    html = manager_client.get(reverse("program_advisories:document", args=[advisory.identifier, "generic"])).text

    assert f'data-preview-url="{reverse("program_advisories:preview")}"' in html
    assert 'src="/static/js/markdown-preview.js"' in html


@pytest.mark.django_db
def test_month_view_puts_each_wave_on_its_utc_day(manager_client, manager, hours_from_now):
    advisory = services.create_advisory(actor=manager, title="Patch day", public_release_at=hours_from_now(50))
    services.set_release_plan(
        actor=manager, advisory=advisory, early_at=hours_from_now(2), public_release_at=hours_from_now(50)
    )
    early = hours_from_now(2)

    response = manager_client.get(f"{reverse('program_advisories:calendar')}?month={early:%Y-%m}")

    days = {day: [w.level for w in waves] for week in response.context["weeks"] for day, waves in week if day}
    assert AccessLevel.EARLY in days[early.day]
    assert "Patch day" in response.text
