"""release_due_waves: never early, catches up when late, idempotent, one delivery per entitled partner, bulk grants,
notices after commit, and a query count that does not grow with the number of partners."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from advisories import services
from advisories.models import (
    AdvisoryDocumentGroupObjectPermission,
    AdvisoryGroupObjectPermission,
    AdvisoryStatus,
    ArtifactGroupObjectPermission,
    Delivery,
    WaveStatus,
)
from core.levels import AccessLevel
from partners.models import Partner, PartnerStatus
from tests.factories import AdvisoryFactory, JurisdictionPolicyFactory, WaveFactory


@pytest.fixture
def program(make_partner, nda, member_of):
    """One partner per situation the rule distinguishes."""
    partners = {
        "early": make_partner(level=AccessLevel.EARLY),
        "standard": make_partner(level=AccessLevel.STANDARD),
        "generic": make_partner(level=AccessLevel.GENERIC),
        "capped": make_partner(level=AccessLevel.EARLY, country="CN"),
        "suspended": make_partner(level=AccessLevel.EARLY, status=PartnerStatus.SUSPENDED),
        "unsigned": make_partner(level=AccessLevel.EARLY, contracts=[]),
        "no poc addendum": make_partner(level=AccessLevel.EARLY, contracts=[nda]),
    }
    JurisdictionPolicyFactory(country="CN", cap_level=AccessLevel.GENERIC)
    for partner in partners.values():
        member_of(partner)
    return partners


def _plan(advisory, *, early, standard, public):
    advisory.public_release_at = public
    advisory.save()
    return {
        AccessLevel.EARLY: WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=early),
        AccessLevel.STANDARD: WaveFactory(advisory=advisory, level=AccessLevel.STANDARD, scheduled_at=standard),
        AccessLevel.GENERIC: WaveFactory(advisory=advisory, level=AccessLevel.GENERIC, scheduled_at=public),
    }


def _delivered(advisory):
    return {(d.partner_id, d.level) for d in Delivery.objects.filter(advisory=advisory)}


@pytest.mark.django_db
def test_wave_is_not_released_before_its_time(advisory, program):
    start = timezone.now()
    waves = _plan(
        advisory,
        early=start + timedelta(hours=1),
        standard=start + timedelta(hours=2),
        public=start + timedelta(hours=3),
    )

    with time_machine.travel(start + timedelta(hours=1) - timedelta(microseconds=1), tick=False):
        assert services.release_due_waves() == []

    assert not Delivery.objects.exists()
    waves[AccessLevel.EARLY].refresh_from_db()
    assert waves[AccessLevel.EARLY].status == WaveStatus.SCHEDULED


@pytest.mark.django_db
def test_early_wave_reaches_only_partners_entitled_to_early_at_that_instant(advisory, program):
    start = timezone.now()
    waves = _plan(
        advisory,
        early=start + timedelta(hours=1),
        standard=start + timedelta(hours=2),
        public=start + timedelta(hours=3),
    )

    with time_machine.travel(start + timedelta(hours=1), tick=False):
        released = services.release_due_waves()

    assert released == [waves[AccessLevel.EARLY].pk]
    assert _delivered(advisory) == {(program["early"].pk, AccessLevel.EARLY)}
    advisory.refresh_from_db()
    assert advisory.status == AdvisoryStatus.RELEASED


@pytest.mark.django_db
def test_each_wave_reaches_the_partners_of_its_level_and_each_partner_receives_once(advisory, program):
    start = timezone.now()
    _plan(
        advisory,
        early=start + timedelta(hours=1),
        standard=start + timedelta(hours=2),
        public=start + timedelta(hours=3),
    )

    for hours in (1, 2, 3):
        with time_machine.travel(start + timedelta(hours=hours), tick=False):
            services.release_due_waves()

    assert _delivered(advisory) == {
        (program["early"].pk, AccessLevel.EARLY),
        (program["standard"].pk, AccessLevel.STANDARD),
        (program["no poc addendum"].pk, AccessLevel.STANDARD),
        (program["generic"].pk, AccessLevel.GENERIC),
        (program["capped"].pk, AccessLevel.GENERIC),
    }
    advisory.refresh_from_db()
    assert advisory.status == AdvisoryStatus.PUBLIC


@pytest.mark.django_db
def test_a_late_run_releases_every_due_wave_earliest_level_first(advisory, program):
    start = timezone.now()
    _plan(
        advisory,
        early=start + timedelta(hours=1),
        standard=start + timedelta(hours=2),
        public=start + timedelta(hours=3),
    )

    with time_machine.travel(start + timedelta(hours=5), tick=False):
        released = services.release_due_waves()

    assert len(released) == 3
    assert Delivery.objects.filter(advisory=advisory).count() == 5
    assert Delivery.objects.get(partner=program["early"]).level == AccessLevel.EARLY


@pytest.mark.django_db
def test_running_the_release_again_changes_nothing(advisory, program):
    start = timezone.now()
    _plan(
        advisory,
        early=start + timedelta(hours=1),
        standard=start + timedelta(hours=2),
        public=start + timedelta(hours=3),
    )
    with time_machine.travel(start + timedelta(hours=5), tick=False):
        services.release_due_waves()
        deliveries = Delivery.objects.count()
        grants = AdvisoryGroupObjectPermission.objects.count()

        assert services.release_due_waves() == []

    assert Delivery.objects.count() == deliveries
    assert AdvisoryGroupObjectPermission.objects.count() == grants


@pytest.mark.django_db
def test_release_grants_objects_up_to_the_wave_level_to_the_partner_group(advisory, program):
    WaveFactory(advisory=advisory, level=AccessLevel.STANDARD, scheduled_at=timezone.now())

    services.release_due_waves()

    group = program["standard"].group
    assert AdvisoryGroupObjectPermission.objects.filter(group=group, content_object=advisory).exists()
    document_levels = set(
        AdvisoryDocumentGroupObjectPermission.objects.filter(group=group).values_list(
            "content_object__level", flat=True
        )
    )
    assert document_levels == {AccessLevel.GENERIC, AccessLevel.STANDARD}
    artifact_levels = set(
        ArtifactGroupObjectPermission.objects.filter(group=group).values_list("content_object__level", flat=True)
    )
    assert artifact_levels == {AccessLevel.STANDARD}
    assert not AdvisoryGroupObjectPermission.objects.filter(group=program["generic"].group).exists()


@pytest.mark.django_db
def test_waves_of_a_draft_or_withdrawn_advisory_never_release(program):
    draft = AdvisoryFactory(status=AdvisoryStatus.DRAFT)
    withdrawn = AdvisoryFactory(status=AdvisoryStatus.WITHDRAWN)
    WaveFactory(advisory=draft, level=AccessLevel.EARLY)
    WaveFactory(advisory=withdrawn, level=AccessLevel.EARLY)

    assert services.release_due_waves() == []
    assert not Delivery.objects.exists()


@pytest.mark.django_db
def test_each_delivery_gets_its_own_secret_fingerprint_token(advisory, program):
    WaveFactory(advisory=advisory, level=AccessLevel.GENERIC, scheduled_at=timezone.now())

    services.release_due_waves()

    tokens = list(Delivery.objects.values_list("fingerprint_token", flat=True))
    assert len(tokens) == len(set(tokens)) == 5
    assert all(len(token) == 64 for token in tokens)


@pytest.mark.django_db
def test_release_notices_are_emailed_after_commit_without_embargoed_content(
    advisory, program, django_capture_on_commit_callbacks
):
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.release_due_waves()
        assert mail.outbox == []
    for callback in callbacks:
        callback()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [program["early"].memberships.get().user.email]
    assert advisory.identifier in message.subject
    assert "technical" not in message.body
    assert Delivery.objects.get().notified_at is not None


@pytest.mark.django_db
def test_release_notices_are_sent_once_per_delivery(advisory, program, django_capture_on_commit_callbacks):
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        services.release_due_waves()
    delivery = Delivery.objects.get()
    assert len(mail.outbox) == 1
    mail.outbox.clear()

    assert services.send_release_notices(delivery_ids=[delivery.pk]) == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_partner_entitled_after_release_receives_the_wave_through_the_same_path(advisory, program):
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=timezone.now())
    services.release_due_waves()
    late = program["suspended"]
    late.reinstate()
    late.save()

    services.deliver_due_waves(partner_ids=[late.pk])

    assert (late.pk, AccessLevel.EARLY) in _delivered(advisory)
    assert ArtifactGroupObjectPermission.objects.filter(group=late.group).count() == 2


def _release_queries(make_partner, partner_count):
    advisory = AdvisoryFactory()
    while Partner.objects.count() < partner_count:
        make_partner(level=AccessLevel.EARLY)
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=timezone.now())
    with CaptureQueriesContext(connection) as queries:
        services.release_due_waves()
    assert Delivery.objects.filter(advisory=advisory).count() == partner_count
    return len(queries)


@pytest.mark.django_db
def test_release_fan_out_uses_the_same_number_of_queries_for_3_or_30_partners(make_partner, advisory):
    few = _release_queries(make_partner, 3)
    many = _release_queries(make_partner, 30)

    assert few == many
