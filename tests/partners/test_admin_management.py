"""Until the manager UI exists, program managers run the program in the Django admin; it goes through services."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from advisories.models import Advisory, AdvisoryStatus
from core.levels import AccessLevel
from core.models import AuditEvent
from partners.models import Partner, PartnerMembership
from tests.factories import AdvisoryFactory, WaveFactory


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
def test_manager_creates_an_advisory_and_gets_the_next_identifier(manager_client):
    AdvisoryFactory(identifier=f"FWN-{timezone.now().year}-0007")
    public = timezone.now() + timedelta(days=5)

    response = manager_client.post(
        reverse("admin:advisories_advisory_add"),
        {
            "title": "Heap overflow in Widget",
            "cve_ids": '["CVE-2026-40000"]',
            "affected_products": "Widget 3",
            "cvss_vector": "",
            "cvss_score": "",
            "tlp": "AMBER",
            "public_release_at_0": public.strftime("%Y-%m-%d"),
            "public_release_at_1": public.strftime("%H:%M:%S"),
            **_empty_inlines("documents", "artifacts", "waves"),
        },
    )

    assert response.status_code == 302, response.content
    advisory = Advisory.objects.get(title="Heap overflow in Widget")
    assert advisory.identifier == f"FWN-{timezone.now().year}-0008"
    assert advisory.status == AdvisoryStatus.DRAFT


@pytest.mark.django_db
def test_schedule_action_refuses_an_invalid_plan_and_schedules_a_valid_one(manager_client):
    public = timezone.now() + timedelta(days=5)
    valid = AdvisoryFactory(status=AdvisoryStatus.DRAFT, public_release_at=public)
    WaveFactory(advisory=valid, level=AccessLevel.EARLY, scheduled_at=public - timedelta(days=2))
    WaveFactory(advisory=valid, level=AccessLevel.GENERIC, scheduled_at=public)
    invalid = AdvisoryFactory(status=AdvisoryStatus.DRAFT, public_release_at=public)
    WaveFactory(advisory=invalid, level=AccessLevel.EARLY, scheduled_at=public + timedelta(days=1))
    WaveFactory(advisory=invalid, level=AccessLevel.GENERIC, scheduled_at=public)

    response = manager_client.post(
        reverse("admin:advisories_advisory_changelist"),
        {"action": "schedule_release", "_selected_action": [valid.pk, invalid.pk]},
        follow=True,
    )

    assert f"{valid.identifier} is scheduled." in response.text
    assert "Waves must run in order" in response.text
    assert Advisory.objects.get(pk=valid.pk).status == AdvisoryStatus.SCHEDULED
    assert Advisory.objects.get(pk=invalid.pk).status == AdvisoryStatus.DRAFT


@pytest.mark.django_db
def test_audit_log_is_read_only_in_the_admin(manager_client):
    call_command("seed_demo", verbosity=0)
    event = AuditEvent.objects.first()

    assert manager_client.get(reverse("admin:core_auditevent_changelist")).status_code == 200
    assert manager_client.post(reverse("admin:core_auditevent_delete", args=[event.pk])).status_code == 403


@pytest.mark.django_db
def test_an_artifact_uploaded_in_the_admin_is_stored_privately_with_its_sha256(manager_client, settings):
    import hashlib

    from django.core.files.uploadedfile import SimpleUploadedFile

    advisory = AdvisoryFactory(status=AdvisoryStatus.DRAFT)
    content = b"alert tcp any any -> any 445 (sid:1;)\n"
    public = advisory.public_release_at

    response = manager_client.post(
        reverse("admin:advisories_advisory_change", args=[advisory.pk]),
        {
            "title": advisory.title,
            "cve_ids": '["CVE-2026-40001"]',
            "tlp": "AMBER",
            "public_release_at_0": public.strftime("%Y-%m-%d"),
            "public_release_at_1": public.strftime("%H:%M:%S"),
            **_empty_inlines("documents", "waves"),
            "artifacts-TOTAL_FORMS": "1",
            "artifacts-INITIAL_FORMS": "0",
            "artifacts-MIN_NUM_FORMS": "0",
            "artifacts-MAX_NUM_FORMS": "1000",
            "artifacts-0-level": AccessLevel.STANDARD,
            "artifacts-0-name": "Snort rule",
            "artifacts-0-file": SimpleUploadedFile("rule.rules", content, content_type="text/plain"),
        },
    )

    assert response.status_code == 302, response.content
    artifact = advisory.artifacts.get()
    assert artifact.sha256 == hashlib.sha256(content).hexdigest()
    assert artifact.size == len(content)
    assert artifact.file.path.startswith(settings.PRIVATE_MEDIA_ROOT)
    with pytest.raises(NotImplementedError):
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

    with pytest.raises(ValidationError, match="at most"):
        services.store_artifact(
            actor=manager,
            artifact=Artifact(advisory=advisory, level=AccessLevel.EARLY, name="Too big"),
            uploaded_file=ContentFile(b"x" * 11, name="big.bin"),
        )
    assert not Artifact.objects.exists()


@pytest.mark.django_db
def test_the_advisory_admin_page_shows_artifacts_without_linking_to_them(manager_client, advisory):
    response = manager_client.get(reverse("admin:advisories_advisory_change", args=[advisory.pk]))

    assert response.status_code == 200
    assert "Proof of concept" in response.text
    assert "poc.py" not in response.text


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
