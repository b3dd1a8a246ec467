"""Partner pages at scale: the list reads the organisation's latest delivery of each advisory, once per advisory and
newest first, and every partner page runs a number of queries that does not grow with the number of advisories
(bench/pages.py measures the same pages on a seeded program)."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advisories import services
from advisories.views import ADVISORIES_PER_PAGE
from core.levels import AccessLevel
from partners.models import Partner
from tests.factories import AdvisoryFactory, ArtifactFactory, WaveFactory, acknowledge_handling_for_every_member


def _release(advisory, level):
    WaveFactory(advisory=advisory, level=level, scheduled_at=timezone.now())
    services.release_due_waves()
    acknowledge_handling_for_every_member(advisory)


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        assert response.status_code == 200
        if response.streaming:
            b"".join(response.streaming_content)
    return len(queries)


def _listed(client, **params):
    return [advisory.identifier for advisory in client.get(reverse("advisories:list"), params).context["page"]]


@pytest.mark.django_db
def test_list_shows_the_most_recently_delivered_advisory_first(early_client):
    older, newer = AdvisoryFactory(), AdvisoryFactory()
    _release(newer, AccessLevel.EARLY)
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        _release(older, AccessLevel.EARLY)

    assert _listed(early_client) == [older.identifier, newer.identifier]


@pytest.mark.django_db
def test_advisory_delivered_again_at_a_higher_level_is_listed_once_at_its_latest_delivery(
    client, make_partner, member_of
):
    partner = make_partner(level=AccessLevel.STANDARD)
    client.force_login(member_of(partner))
    upgraded, other = AdvisoryFactory(), AdvisoryFactory()
    _release(upgraded, AccessLevel.STANDARD)
    _release(other, AccessLevel.STANDARD)
    Partner.objects.filter(pk=partner.pk).update(assigned_level=AccessLevel.EARLY)
    later = timezone.now() + timedelta(hours=1)
    with time_machine.travel(later, tick=False):
        WaveFactory(advisory=upgraded, level=AccessLevel.EARLY, scheduled_at=later)
        services.release_due_waves()

    page = client.get(reverse("advisories:list")).context["page"]

    assert [advisory.identifier for advisory in page] == [upgraded.identifier, other.identifier]
    assert page[0].delivered_at == later


@pytest.mark.django_db
def test_list_pages_split_the_advisories_without_repeating_any(early_client):
    advisories = [AdvisoryFactory() for _ in range(ADVISORIES_PER_PAGE + 3)]
    for advisory in advisories:
        _release(advisory, AccessLevel.EARLY)

    first, second = _listed(early_client), _listed(early_client, page=2)

    assert len(first) == ADVISORIES_PER_PAGE
    assert sorted(first + second) == sorted(advisory.identifier for advisory in advisories)


@pytest.mark.django_db
def test_deep_list_page_query_count_does_not_grow_with_the_number_of_advisories(early_client):
    def deep_page_queries():
        return _queries(early_client, reverse("advisories:list") + "?page=2")

    for _ in range(ADVISORIES_PER_PAGE + 1):
        _release(AdvisoryFactory(), AccessLevel.EARLY)
    few = deep_page_queries()
    for _ in range(ADVISORIES_PER_PAGE * 2):
        _release(AdvisoryFactory(), AccessLevel.EARLY)

    assert deep_page_queries() == few


@pytest.mark.django_db
def test_advisory_page_query_count_does_not_grow_with_the_number_of_advisories(early_client, advisory):
    _release(advisory, AccessLevel.EARLY)
    url = reverse("advisories:detail", args=[advisory.identifier])
    before = _queries(early_client, url)
    for _ in range(10):
        _release(AdvisoryFactory(), AccessLevel.EARLY)

    assert _queries(early_client, url) == before


@pytest.mark.django_db
def test_download_query_count_does_not_grow_with_the_number_of_advisories(early_client, advisory):
    _release(advisory, AccessLevel.EARLY)
    url = reverse("advisories:artifact", args=[advisory.identifier, advisory.artifacts.first().pk])
    before = _queries(early_client, url)
    for _ in range(10):
        other = AdvisoryFactory()
        ArtifactFactory(advisory=other, level=AccessLevel.EARLY)
        _release(other, AccessLevel.EARLY)

    assert _queries(early_client, url) == before
