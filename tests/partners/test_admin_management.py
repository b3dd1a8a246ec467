"""Until the manager UI exists, program managers run the program in the Django admin; it goes through services."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from advisories.models import AdvisoryStatus
from core.levels import AccessLevel
from core.models import AuditEvent
from partners.models import Partner, PartnerMembership
from tests.factories import AdvisoryFactory


def _empty_inlines(*prefixes):
    """The management-form fields of admin inlines left empty."""
    counts = {"TOTAL_FORMS": "0", "INITIAL_FORMS": "0", "MIN_NUM_FORMS": "0", "MAX_NUM_FORMS": "1000"}
    return {f"{prefix}-{field}": value for prefix in prefixes for field, value in counts.items()}


@pytest.fixture
def manager_client(client, manager):
    call_command("sync_roles", verbosity=0)
    client.force_login(manager)
    return client


@pytest.mark.django_db
def test_manager_adds_a_partner_in_the_admin_through_the_service(manager_client):
    response = manager_client.post(
        reverse("admin:partners_partner_add"),
        {
            "legal_name": "Kestrel IDS Ltd",
            "trading_name": "Kestrel",
            "country": "GB",
            "assigned_level": 2,
            **_empty_inlines("memberships"),
        },
    )

    assert response.status_code == 302, response.content
    partner = Partner.objects.get(legal_name="Kestrel IDS Ltd")
    assert partner.group.name == "partner:Kestrel IDS Ltd"
    assert AuditEvent.objects.filter(action="partner.created", target_id=str(partner.pk)).exists()


@pytest.mark.django_db
def test_manager_adds_a_partner_member_in_the_admin(manager_client, make_partner):
    partner = make_partner()

    response = manager_client.post(
        reverse("admin:partners_partnermembership_add"),
        {"email": "Analyst@Kestrel.test", "password": "", "partner": partner.pk, "role": "analyst"},
    )

    assert response.status_code == 302, response.content
    assert PartnerMembership.objects.get(partner=partner).user.email == "analyst@kestrel.test"


@pytest.mark.django_db
def test_audit_log_is_read_only_in_the_admin(manager_client):
    call_command("seed_demo", verbosity=0)
    event = AuditEvent.objects.first()

    assert manager_client.get(reverse("admin:core_auditevent_changelist")).status_code == 200
    assert manager_client.post(reverse("admin:core_auditevent_delete", args=[event.pk])).status_code == 403


@pytest.mark.django_db
def test_a_stored_artifact_lives_in_private_storage_that_has_no_url(manager, settings):
    import hashlib

    from django.core.files.base import ContentFile

    from advisories import services

    advisory = AdvisoryFactory(status=AdvisoryStatus.DRAFT)
    services.assign_advisory_manager(actor=_superuser(), advisory=advisory, manager=manager)
    content = b"alert tcp any any -> any 445 (sid:1;)\n"

    artifact = services.add_artifact(
        actor=manager,
        advisory=advisory,
        level=AccessLevel.STANDARD,
        name="Snort rule",
        description="",
        uploaded_file=ContentFile(content, name="rule.rules"),
    )

    assert artifact.sha256 == hashlib.sha256(content).hexdigest()
    assert artifact.size == len(content)
    assert artifact.file.path.startswith(settings.PRIVATE_MEDIA_ROOT)
    with pytest.raises(NotImplementedError, match="Private files have no URL"):
        artifact.file.url  # noqa: B018 - no URL may ever serve a private file
    assert AuditEvent.objects.filter(action="artifact.stored").exists()


@pytest.mark.django_db
def test_an_artifact_over_the_size_limit_is_refused_and_nothing_is_stored(manager, settings):
    from django.core.exceptions import ValidationError
    from django.core.files.base import ContentFile

    from advisories import services
    from advisories.models import Artifact

    settings.ARTIFACT_MAX_BYTES = 10
    advisory = AdvisoryFactory()
    services.assign_advisory_manager(actor=_superuser(), advisory=advisory, manager=manager)

    with pytest.raises(ValidationError, match="at most"):
        services.store_artifact(
            actor=manager,
            artifact=Artifact(advisory=advisory, level=AccessLevel.EARLY, name="Too big"),
            uploaded_file=ContentFile(b"x" * 11, name="big.bin"),
        )
    assert not Artifact.objects.exists()


@pytest.mark.django_db
def test_the_admin_shows_advisories_read_only_and_links_no_file(manager_client, manager, advisory):
    from advisories import services

    services.assign_advisory_manager(actor=_superuser(), advisory=advisory, manager=manager)

    response = manager_client.get(reverse("admin:advisories_advisory_change", args=[advisory.pk]))

    assert response.status_code == 200
    assert "Proof of concept" in response.text
    assert "poc.py" not in response.text
    assert manager_client.get(reverse("admin:advisories_advisory_add")).status_code == 403


@pytest.mark.django_db
def test_the_admin_keeps_drafts_need_to_know(manager_client):
    draft = AdvisoryFactory(status=AdvisoryStatus.DRAFT, title="Unpatched zero-day in Widget")

    listing = manager_client.get(reverse("admin:advisories_advisory_changelist"))

    assert draft.identifier in listing.text
    assert "Unpatched zero-day in Widget" not in listing.text
    assert manager_client.get(reverse("admin:advisories_advisory_change", args=[draft.pk])).status_code in (302, 403)


def _superuser():
    from tests.factories import UserFactory

    return UserFactory(email="root@forewarn.test", is_staff=True, is_superuser=True)


@pytest.mark.django_db
def test_every_admin_list_and_record_page_renders_for_a_superuser_on_demo_data(client):
    from django.contrib import admin

    from tests.factories import UserFactory

    call_command("seed_demo", verbosity=0)
    client.force_login(UserFactory(email="root@forewarn.test", is_staff=True, is_superuser=True))

    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        assert client.get(reverse("admin:{}_{}_changelist".format(*info))).status_code == 200, info
        first = model._default_manager.first()
        if first is not None:
            assert client.get(reverse("admin:{}_{}_change".format(*info), args=[first.pk])).status_code == 200, info
