"""Every contract page renders on the demo program, for the staff and for each kind of partner member."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from compliance.models import Agreement, ContractVersion
from partners.models import PartnerMembership


@pytest.fixture
def demo(db):
    call_command("seed_demo")


@pytest.mark.django_db
def test_every_staff_contract_page_renders_on_demo_data(client, demo):
    client.force_login(get_user_model().objects.get(email="manager@forewarn.test"))
    pages = [
        reverse("compliance:contract_list"),
        reverse("compliance:contract_publish"),
        reverse("compliance:signing_status"),
        *[
            reverse("compliance:contract_version", args=[pk])
            for pk in ContractVersion.objects.values_list("pk", flat=True)
        ],
        *[reverse("compliance:staff_agreement", args=[pk]) for pk in Agreement.objects.values_list("pk", flat=True)],
    ]

    statuses = {page: client.get(page).status_code for page in pages}

    assert set(statuses.values()) == {200}, statuses


@pytest.mark.django_db
def test_every_partner_agreement_page_renders_for_every_demo_member(client, demo):
    versions = list(ContractVersion.objects.values_list("pk", flat=True))
    for membership in PartnerMembership.objects.select_related("user", "partner"):
        client.force_login(membership.user)
        own = Agreement.objects.filter(partner=membership.partner).values_list("pk", flat=True)
        pages = [
            reverse("compliance:partner_agreements"),
            *[reverse("compliance:partner_sign", args=[pk]) for pk in versions],
            *[reverse("compliance:partner_agreement", args=[pk]) for pk in own],
        ]

        statuses = {page: client.get(page).status_code for page in pages}

        assert set(statuses.values()) == {200}, (membership, statuses)
