"""Before a partner user first opens an advisory (or one of its files), they acknowledge its TLP label and the
handling terms, once, with the time and their address on record."""

from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import timezone

from advisories import selectors, services
from advisories.models import TLP, Advisory, DownloadEvent, HandlingAcknowledgement
from core.levels import AccessLevel
from core.models import AuditEvent
from tests.factories import AdvisoryFactory, WaveFactory


def _release(advisory, level=AccessLevel.EARLY):
    WaveFactory(advisory=advisory, level=level, scheduled_at=timezone.now())
    services.release_due_waves()


def _detail(advisory):
    return reverse("advisories:detail", args=[advisory.identifier])


def _acknowledge(advisory):
    return reverse("advisories:acknowledge", args=[advisory.identifier])


@pytest.fixture
def partner(make_partner):
    return make_partner(level=AccessLevel.EARLY)


@pytest.fixture
def analyst(partner, member_of):
    return member_of(partner)


@pytest.fixture
def analyst_client(client, analyst):
    client.force_login(analyst)
    return client


@pytest.fixture
def released(advisory):
    Advisory.objects.filter(pk=advisory.pk).update(tlp=TLP.RED)
    advisory.refresh_from_db()
    _release(advisory)
    return advisory


@pytest.mark.django_db
def test_first_opening_an_advisory_leads_to_the_acknowledgement_page(analyst_client, released):
    response = analyst_client.get(_detail(released))

    assert response.status_code == 302
    assert response["Location"] == _acknowledge(released)
    assert not DownloadEvent.objects.exists()


@pytest.mark.django_db
def test_acknowledgement_page_shows_the_tlp_label_its_meaning_and_the_handling_terms(analyst_client, released):
    response = analyst_client.get(_acknowledge(released))

    assert response.status_code == 200
    assert "TLP:RED" in response.text
    assert "For the eyes and ears of individual recipients only" in response.text
    assert "Handling terms" in response.text
    assert "Standard <strong>technical</strong> details." not in response.text


@pytest.mark.django_db
def test_acknowledging_records_time_ip_and_label_then_opens_the_advisory(analyst_client, analyst, partner, released):
    response = analyst_client.post(
        _acknowledge(released), {"acknowledge": "on"}, REMOTE_ADDR="198.51.100.20", HTTP_USER_AGENT="Browser/3"
    )

    acknowledgement = HandlingAcknowledgement.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _detail(released)
    assert (acknowledgement.user, acknowledgement.partner, acknowledgement.advisory) == (analyst, partner, released)
    assert acknowledgement.tlp == TLP.RED
    assert acknowledgement.ip_address == "198.51.100.20"
    assert acknowledgement.user_agent == "Browser/3"
    assert acknowledgement.acknowledged_at is not None
    assert AuditEvent.objects.filter(action="advisory.handling_acknowledged", actor=analyst).count() == 1
    assert analyst_client.get(_detail(released)).status_code == 200


@pytest.mark.django_db
def test_acknowledging_without_ticking_the_box_is_refused(analyst_client, released):
    response = analyst_client.post(_acknowledge(released), {})

    assert response.status_code == 400
    assert "Tick the box" in response.text
    assert not HandlingAcknowledgement.objects.exists()
    assert analyst_client.get(_detail(released)).status_code == 302


@pytest.mark.django_db
def test_the_acknowledgement_is_given_once_and_kept_as_first_given(analyst_client, released):
    analyst_client.post(_acknowledge(released), {"acknowledge": "on"}, REMOTE_ADDR="198.51.100.20")
    first = HandlingAcknowledgement.objects.get()

    again = analyst_client.post(_acknowledge(released), {"acknowledge": "on"}, REMOTE_ADDR="203.0.113.1")
    page = analyst_client.get(_acknowledge(released))

    assert again.status_code == 302
    assert page.status_code == 302  # nothing left to acknowledge: straight to the advisory
    assert list(HandlingAcknowledgement.objects.values_list("pk", "ip_address")) == [(first.pk, "198.51.100.20")]


@pytest.mark.django_db
def test_each_colleague_acknowledges_for_themselves(client, analyst_client, released, partner, member_of):
    analyst_client.post(_acknowledge(released), {"acknowledge": "on"})
    client.force_login(member_of(partner))

    assert client.get(_detail(released)).status_code == 302


@pytest.mark.django_db
def test_a_file_download_also_waits_for_the_acknowledgement_and_then_proceeds(analyst_client, released):
    poc = released.artifacts.get(level=AccessLevel.EARLY)
    download = reverse("advisories:artifact", args=[released.identifier, poc.pk])

    refused = analyst_client.get(download)
    acknowledged = analyst_client.post(f"{_acknowledge(released)}?next={quote(download)}", {"acknowledge": "on"})

    assert refused.status_code == 302
    assert refused["Location"] == f"{_acknowledge(released)}?next={quote(download, safe='')}"
    assert acknowledged["Location"] == download
    assert analyst_client.get(download).status_code == 200


@pytest.mark.django_db
def test_an_outside_next_address_is_ignored(analyst_client, released):
    response = analyst_client.post(f"{_acknowledge(released)}?next=https://evil.example/", {"acknowledge": "on"})

    assert response["Location"] == _detail(released)


@pytest.mark.django_db
def test_the_acknowledgement_page_of_an_advisory_not_released_to_the_organisation_answers_404(analyst_client):
    unreleased = AdvisoryFactory()

    assert analyst_client.get(_acknowledge(unreleased)).status_code == 404
    assert analyst_client.post(_acknowledge(unreleased), {"acknowledge": "on"}).status_code == 404
    assert not HandlingAcknowledgement.objects.exists()


@pytest.mark.django_db
def test_staff_cannot_use_the_acknowledgement_page(client, manager, released):
    client.force_login(manager)

    assert client.get(_acknowledge(released)).status_code == 404


@pytest.mark.django_db
def test_acknowledgements_are_listed_for_the_distribution_record(analyst_client, analyst, released):
    analyst_client.post(_acknowledge(released), {"acknowledge": "on"}, REMOTE_ADDR="198.51.100.20")

    (record,) = selectors.handling_acknowledgements(advisory=released)

    assert (record.user, record.ip_address, record.tlp) == (analyst, "198.51.100.20", TLP.RED)
