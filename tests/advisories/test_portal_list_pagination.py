"""The partner advisory list pages by position ("older than" / "newer than" a row), not by number: the Older and
Newer links walk the organisation's list without gaps or repeats, and a position, whatever it names, only places
the page: it never shows another organisation's deliveries or anything above the organisation's level, and one
that is not a position answers 400 with the newest page and says so."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from advisories import services
from advisories.models import Delivery
from advisories.selectors import ListCursor
from advisories.views import ADVISORIES_PER_PAGE
from core.levels import AccessLevel
from partners.models import Partner, PartnerStatus
from tests.factories import AdvisoryFactory, WaveFactory, acknowledge_handling_for_every_member

LIST = reverse("advisories:list")


def _release(advisory, level, at=None):
    at = at or timezone.now()
    with time_machine.travel(at, tick=False):
        WaveFactory(advisory=advisory, level=level, scheduled_at=at)
        services.release_due_waves()
    acknowledge_handling_for_every_member(advisory)


def _identifiers(page):
    return [advisory.identifier for advisory in page]


@pytest.fixture
def early_partner(make_partner):
    return make_partner(level=AccessLevel.EARLY)


@pytest.fixture
def early_client(client, early_partner, member_of):
    client.force_login(member_of(early_partner))
    return client


@pytest.fixture
def released(early_client):
    """Two pages and a half of advisories released to the early organisation, one a minute, newest first."""
    start = timezone.now() - timedelta(days=1)
    advisories = [AdvisoryFactory() for _ in range(ADVISORIES_PER_PAGE * 2 + 5)]
    for minute, advisory in enumerate(advisories):
        _release(advisory, AccessLevel.EARLY, at=start + timedelta(minutes=minute))
    return [advisory.identifier for advisory in reversed(advisories)]


@pytest.mark.django_db
def test_older_links_walk_the_whole_list_in_order_and_newer_links_walk_back(early_client, released):
    pages, response = [], early_client.get(LIST)
    while True:
        page = response.context["page"]
        pages.append(page)
        if page.older is None:
            break
        response = early_client.get(LIST, {"before": page.older.token})
    back = [_identifiers(early_client.get(LIST, {"after": pages[-1].newer.token}).context["page"])]

    assert [identifier for page in pages for identifier in _identifiers(page)] == released
    assert [len(page) for page in pages] == [ADVISORIES_PER_PAGE, ADVISORIES_PER_PAGE, 5]
    assert pages[0].newer is None and pages[1].newer is not None
    assert back == [_identifiers(pages[1])]


@pytest.mark.django_db
def test_the_page_shows_newer_and_older_links_and_no_page_count(early_client, released):
    first = early_client.get(LIST)
    second = early_client.get(LIST, {"before": first.context["page"].older.token})

    assert b"Older" in first.content and b"Newer" not in first.content
    assert b"Older" in second.content and b"Newer" in second.content
    assert b" of " not in second.content.split(b'class="pagination"')[1].split(b"</nav>")[0]


@pytest.mark.django_db
def test_newer_link_from_the_second_page_comes_back_to_the_newest_page(early_client, released):
    second = early_client.get(LIST, {"before": early_client.get(LIST).context["page"].older.token}).context["page"]

    back = early_client.get(LIST, {"after": second.newer.token}).context["page"]

    assert _identifiers(back) == released[:ADVISORIES_PER_PAGE]
    assert back.newer is None


@pytest.mark.django_db
def test_older_links_keep_the_search(early_client, released):
    response = early_client.get(LIST, {"q": "FWN"})

    assert f"?q=FWN&amp;before={response.context['page'].older.token}".encode() in response.content


@pytest.mark.django_db
def test_rows_delivered_at_the_same_instant_are_neither_repeated_nor_skipped_across_pages(early_client):
    same_instant = timezone.now() - timedelta(hours=1)
    advisories = [AdvisoryFactory() for _ in range(ADVISORIES_PER_PAGE + 3)]
    for advisory in advisories:
        _release(advisory, AccessLevel.EARLY, at=same_instant)

    first = early_client.get(LIST).context["page"]
    second = early_client.get(LIST, {"before": first.older.token}).context["page"]

    assert sorted(_identifiers(first) + _identifiers(second)) == sorted(a.identifier for a in advisories)
    assert len(set(_identifiers(first) + _identifiers(second))) == len(advisories)


@pytest.mark.django_db
def test_a_position_taken_from_another_organisations_delivery_shows_only_ones_own(
    early_client, early_partner, make_partner, released
):
    other = make_partner(level=AccessLevel.EARLY)
    theirs = AdvisoryFactory()
    Partner.objects.filter(pk=early_partner.pk).update(status=PartnerStatus.SUSPENDED)  # so that only they receive it
    _release(theirs, AccessLevel.EARLY)
    Partner.objects.filter(pk=early_partner.pk).update(status=PartnerStatus.ACTIVE)
    their_delivery = Delivery.objects.get(advisory=theirs, partner=other)
    assert not Delivery.objects.filter(advisory=theirs, partner=early_partner).exists()
    crafted = ListCursor(delivered_at=their_delivery.delivered_at + timedelta(seconds=1), advisory_id=theirs.pk + 1)

    for direction in ("before", "after"):
        response = early_client.get(LIST, {direction: crafted.token})

        assert response.status_code == 200
        assert theirs.identifier not in _identifiers(response.context["page"])
        assert set(_identifiers(response.context["page"])) <= set(released)
        assert theirs.identifier.encode() not in response.content


@pytest.mark.django_db
def test_a_position_next_to_an_advisory_above_the_organisations_level_does_not_reveal_it(
    client, make_partner, member_of
):
    standard = make_partner(level=AccessLevel.STANDARD)
    client.force_login(member_of(standard))
    make_partner(level=AccessLevel.EARLY)
    own, early_only = AdvisoryFactory(), AdvisoryFactory()
    _release(own, AccessLevel.STANDARD, at=timezone.now() - timedelta(hours=2))
    _release(early_only, AccessLevel.EARLY, at=timezone.now() - timedelta(hours=1))
    early_delivery = Delivery.objects.get(advisory=early_only)
    around = [
        ListCursor(delivered_at=early_delivery.delivered_at, advisory_id=early_only.pk + 1),
        ListCursor(delivered_at=early_delivery.delivered_at, advisory_id=early_only.pk - 1),
        ListCursor(delivered_at=early_delivery.delivered_at + timedelta(days=1), advisory_id=0),
    ]

    for cursor in around:
        for direction in ("before", "after"):
            response = client.get(LIST, {direction: cursor.token})

            assert response.status_code == 200
            assert early_only.identifier.encode() not in response.content
            assert set(_identifiers(response.context["page"])) <= {own.identifier}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [
        {"before": "garbage"},
        {"before": ""},
        {"before": "123"},
        {"before": "-5"},
        {"before": "12-"},
        {"before": "1.5-3"},
        {"before": "1e9-3"},
        {"before": "-1-3"},
        {"before": "１２３-４"},  # digits, but not ASCII ones
        {"before": "9" * 40 + "-1"},
        {"before": "9" * 18 + "-1"},  # beyond the year 5138
        {"before": "1-" + "9" * 40},
        {"before": "1700000000000000-1 OR 1=1"},
        {"after": "x"},
        {"before": "1700000000000000-1", "after": "1700000000000000-1"},
    ],
)
def test_a_position_that_is_not_one_answers_400_with_the_newest_page_and_a_message(early_client, params):
    older, newer = AdvisoryFactory(), AdvisoryFactory()
    _release(older, AccessLevel.EARLY, at=timezone.now() - timedelta(hours=2))
    _release(newer, AccessLevel.EARLY, at=timezone.now() - timedelta(hours=1))

    response = early_client.get(LIST, params)

    assert response.status_code == 400
    assert b"This page link is not valid" in response.content
    assert _identifiers(response.context["page"]) == [newer.identifier, older.identifier]


@pytest.mark.django_db
def test_a_position_older_than_everything_says_there_is_nothing_older(early_client):
    _release(AdvisoryFactory(), AccessLevel.EARLY)

    response = early_client.get(LIST, {"before": ListCursor.from_token("0-0").token})

    assert response.status_code == 200
    assert list(response.context["page"]) == []
    assert b"No older advisory" in response.content


@pytest.mark.django_db
def test_an_old_page_number_shows_the_newest_page(early_client):
    advisory = AdvisoryFactory()
    _release(advisory, AccessLevel.EARLY)

    response = early_client.get(LIST, {"page": "150"})

    assert response.status_code == 200
    assert _identifiers(response.context["page"]) == [advisory.identifier]
