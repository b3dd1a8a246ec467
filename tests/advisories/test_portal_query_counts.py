"""Partner pages at scale: the list reads the organisation's latest delivery of each advisory, once per advisory and
newest first, a page at a time from a cursor (no count), and every partner page runs a fixed number of queries,
pinned below, that does not grow with the number of advisories or the depth of the page (bench/pages.py measures
the same pages on a seeded program).

The pinned counts, for a signed-in member: the session, the user and the second factor (3); the membership with
the live entitlement facts and the clock (1); the session saved (3, SAVEPOINT, UPDATE, RELEASE). Then the list: the
page's rows and the unread notices of the navigation (2). The advisory page: the advisory with the reader's
acknowledgement, its documents, its files (3), the delivery and the view recorded (2), the protection status and
the unread notices (2). A download: the file with its advisory and the acknowledgement (1), the delivery and the
download recorded (2)."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advisories import services
from advisories.selectors import ListCursor
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


LIST_PAGE_QUERIES = 9
ADVISORY_PAGE_QUERIES = 13
DOWNLOAD_QUERIES = 9


def _page(client, **params):
    return client.get(reverse("advisories:list"), params).context["page"]


def _listed(client, **params):
    return [advisory.identifier for advisory in _page(client, **params)]


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

    first_page = _page(early_client)
    first = [advisory.identifier for advisory in first_page]
    second = _listed(early_client, before=first_page.older.token)

    assert len(first) == ADVISORIES_PER_PAGE
    assert sorted(first + second) == sorted(advisory.identifier for advisory in advisories)


def _deep_list_url(client, pages: int) -> str:
    """The list page reached by following the Older link `pages` times."""
    url = reverse("advisories:list")
    for _ in range(pages):
        url = reverse("advisories:list") + "?before=" + client.get(url).context["page"].older.token
    return url


@pytest.mark.django_db
def test_list_pages_take_a_fixed_number_of_queries_at_any_depth(early_client):
    for _ in range(ADVISORIES_PER_PAGE * 3 + 1):
        _release(AdvisoryFactory(), AccessLevel.EARLY)

    assert _queries(early_client, reverse("advisories:list")) == LIST_PAGE_QUERIES
    assert _queries(early_client, _deep_list_url(early_client, 1)) == LIST_PAGE_QUERIES
    assert _queries(early_client, _deep_list_url(early_client, 3)) == LIST_PAGE_QUERIES


@pytest.mark.django_db
def test_list_page_reads_no_count_of_the_whole_list(early_client):
    for _ in range(ADVISORIES_PER_PAGE + 1):
        _release(AdvisoryFactory(), AccessLevel.EARLY)

    with CaptureQueriesContext(connection) as queries:
        early_client.get(_deep_list_url(early_client, 1))

    assert not [query for query in queries if "advisories_advisory" in query["sql"] and "COUNT(" in query["sql"]]


@pytest.mark.django_db
def test_deep_list_page_query_count_does_not_grow_with_the_number_of_advisories(early_client):
    def deep_page_queries():
        return _queries(early_client, _deep_list_url(early_client, 1))

    for _ in range(ADVISORIES_PER_PAGE + 1):
        _release(AdvisoryFactory(), AccessLevel.EARLY)
    few = deep_page_queries()
    for _ in range(ADVISORIES_PER_PAGE * 2):
        _release(AdvisoryFactory(), AccessLevel.EARLY)

    assert deep_page_queries() == few == LIST_PAGE_QUERIES


@pytest.mark.django_db
def test_advisory_page_query_count_does_not_grow_with_the_number_of_advisories(early_client, advisory):
    _release(advisory, AccessLevel.EARLY)
    url = reverse("advisories:detail", args=[advisory.identifier])
    before = _queries(early_client, url)
    for _ in range(10):
        _release(AdvisoryFactory(), AccessLevel.EARLY)

    assert _queries(early_client, url) == before == ADVISORY_PAGE_QUERIES


@pytest.mark.django_db
def test_download_query_count_does_not_grow_with_the_number_of_advisories(early_client, advisory):
    _release(advisory, AccessLevel.EARLY)
    url = reverse("advisories:artifact", args=[advisory.identifier, advisory.artifacts.first().pk])
    before = _queries(early_client, url)
    for _ in range(10):
        other = AdvisoryFactory()
        ArtifactFactory(advisory=other, level=AccessLevel.EARLY)
        _release(other, AccessLevel.EARLY)

    assert _queries(early_client, url) == before == DOWNLOAD_QUERIES


@pytest.mark.django_db
def test_download_reads_the_file_row_once(early_client, advisory):
    _release(advisory, AccessLevel.EARLY)
    url = reverse("advisories:artifact", args=[advisory.identifier, advisory.artifacts.first().pk])

    with CaptureQueriesContext(connection) as queries:
        b"".join(early_client.get(url).streaming_content)

    assert len([query for query in queries if query["sql"].startswith('SELECT "advisories_artifact"')]) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["advisory", "download"])
def test_each_copy_served_is_personalised_once_per_request(early_client, advisory, page, monkeypatch):
    from advisories import fingerprinting

    calls = []
    real = fingerprinting.personalise
    for module in ("advisories.fingerprinting", "advisories.fingerprinting.personalisation"):
        monkeypatch.setattr(f"{module}.personalise", lambda *args, **kwargs: calls.append(1) or real(*args, **kwargs))
    _release(advisory, AccessLevel.EARLY)
    if page == "advisory":
        url, copies = reverse("advisories:detail", args=[advisory.identifier]), advisory.documents.count()
    else:
        url, copies = reverse("advisories:artifact", args=[advisory.identifier, advisory.artifacts.last().pk]), 1

    response = early_client.get(url)
    if response.streaming:
        b"".join(response.streaming_content)

    assert response.status_code == 200
    assert len(calls) == copies


@pytest.mark.django_db
def test_a_list_position_is_a_token_that_names_the_row_it_was_taken_from(early_client):
    _release(AdvisoryFactory(), AccessLevel.EARLY)
    listed = _page(early_client)[0]

    cursor = ListCursor.from_token(ListCursor.of(listed).token)

    assert (cursor.delivered_at, cursor.advisory_id) == (listed.delivered_at, listed.pk)
