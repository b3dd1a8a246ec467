"""The editor's preview of variant points and its proposals: alternatives are shown escaped (an author's text never
becomes markup), and only program managers may use either."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import ProgramManagerFactory, UserFactory


def _client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_the_preview_marks_each_variant_point_with_its_alternatives_escaped():
    text = 'The flaw {{= lies | <img src=x onerror="alert(1)"> =}} in `parse()`.\n\n```\nPAD = b"{{= A..C =}}"\n```\n'

    html = _client(ProgramManagerFactory()).post(reverse("program_advisories:preview"), {"text": text}).text

    assert html.count('class="variant-point"') == 2
    assert 'data-count="3"' in html
    assert "<img" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert "{{=" not in html


@pytest.mark.django_db
def test_proposals_name_places_outside_code_and_protected_terms():
    text = "It reliably crashes; see `reliably_crash()` and the buffer overflow.\n"

    proposals = (
        _client(ProgramManagerFactory()).post(reverse("program_advisories:variant_proposals"), {"text": text}).json()
    )

    assert [(p["text"], p["start"]) for p in proposals["proposals"]] == [("reliably", 3)]
    assert proposals["proposals"][0]["markup"].startswith("{{= reliably | ")


@pytest.mark.django_db
def test_staff_without_a_role_cannot_ask_for_proposals():
    response = _client(UserFactory(is_staff=True)).post(reverse("program_advisories:variant_proposals"), {"text": "x"})

    assert response.status_code == 403
