"""Partner notices: an inbox entry per user and wave exactly once, email immediately, as a daily digest or not at
all, never with advisory content; a wave nobody is entitled to reaches nobody."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advisories import services, tasks
from advisories.models import Delivery, EmailMode, Notice, NoticeKind
from core.levels import AccessLevel
from partners.models import PartnerStatus
from tests.factories import AdvisoryFactory, DocumentFactory, UserFactory, WaveFactory

SECRET = "overflow in parse_ike() at offset 0x41"


@pytest.fixture
def secret_advisory(db):
    advisory = AdvisoryFactory(title="Heap overflow in Acme VPN")
    DocumentFactory(advisory=advisory, level=AccessLevel.STANDARD, body_markdown=SECRET)
    return advisory


def _release(advisory, level, capture):
    WaveFactory(advisory=advisory, level=level, scheduled_at=timezone.now())
    with capture(execute=True):
        services.release_due_waves()


@pytest.mark.django_db
def test_each_member_gets_one_inbox_notice_and_one_email_per_wave(
    early_partner, member_of, secret_advisory, django_capture_on_commit_callbacks
):
    alice, bob = member_of(early_partner), member_of(early_partner)

    _release(secret_advisory, AccessLevel.EARLY, django_capture_on_commit_callbacks)

    assert sorted(Notice.objects.values_list("user_id", flat=True)) == sorted([alice.pk, bob.pk])
    assert sorted(message.to[0] for message in mail.outbox) == sorted([alice.email, bob.email])


@pytest.mark.django_db
def test_a_retried_notice_task_sends_nothing_twice(
    early_partner, member_of, secret_advisory, django_capture_on_commit_callbacks
):
    member_of(early_partner)
    _release(secret_advisory, AccessLevel.EARLY, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()
    # A worker that died after its notices committed but before anyone knew: the task runs again from scratch.
    Delivery.objects.filter(pk=delivery.pk).update(notified_at=None)

    assert tasks.send_release_notices.delay([delivery.pk]).get() == 0
    assert Notice.objects.count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_the_database_refuses_a_second_release_notice_for_one_user_and_wave(
    early_partner, member_of, secret_advisory, django_capture_on_commit_callbacks
):
    member_of(early_partner)
    _release(secret_advisory, AccessLevel.EARLY, django_capture_on_commit_callbacks)
    notice = Notice.objects.get()

    with pytest.raises(IntegrityError, match="one_release_notice_per_user_and_wave"):
        Notice.objects.create(
            user=notice.user,
            partner=notice.partner,
            advisory=notice.advisory,
            wave=notice.wave,
            kind=NoticeKind.RELEASED,
            created_at=timezone.now(),
        )


@pytest.mark.django_db
def test_notice_email_names_title_level_and_link_but_carries_no_content(
    early_partner, member_of, secret_advisory, django_capture_on_commit_callbacks
):
    member_of(early_partner)

    _release(secret_advisory, AccessLevel.EARLY, django_capture_on_commit_callbacks)

    [message] = mail.outbox
    assert secret_advisory.identifier in message.subject
    assert "Heap overflow in Acme VPN" in message.body
    assert "early level" in message.body
    assert f"/portal/advisories/{secret_advisory.identifier}/" in message.body
    assert SECRET not in message.body
    assert SECRET not in message.subject


@pytest.mark.django_db
def test_a_wave_with_no_entitled_organisation_reaches_nobody(
    make_partner, member_of, secret_advisory, django_capture_on_commit_callbacks
):
    member_of(make_partner(level=AccessLevel.EARLY, status=PartnerStatus.SUSPENDED))
    member_of(make_partner(level=AccessLevel.GENERIC))

    _release(secret_advisory, AccessLevel.EARLY, django_capture_on_commit_callbacks)

    assert not Delivery.objects.exists()
    assert not Notice.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db
def test_users_who_chose_no_email_get_only_the_inbox_notice(
    early_partner, member_of, secret_advisory, django_capture_on_commit_callbacks
):
    user = member_of(early_partner)
    services.set_notice_preference(user=user, email_mode=EmailMode.NONE)

    _release(secret_advisory, AccessLevel.EARLY, django_capture_on_commit_callbacks)
    services.send_notice_digests(now=timezone.now() + timedelta(days=1))

    assert Notice.objects.filter(user=user).count() == 1
    assert mail.outbox == []


@pytest.mark.django_db
def test_daily_digest_gathers_the_days_notices_into_one_email_once(
    early_partner, member_of, secret_advisory, django_capture_on_commit_callbacks
):
    user = member_of(early_partner)
    services.set_notice_preference(user=user, email_mode=EmailMode.DAILY)
    second = AdvisoryFactory(title="SQL injection in Widget")
    _release(secret_advisory, AccessLevel.EARLY, django_capture_on_commit_callbacks)
    _release(second, AccessLevel.EARLY, django_capture_on_commit_callbacks)
    assert mail.outbox == []

    assert tasks.send_notice_digests.delay().get() == 1
    assert services.send_notice_digests() == 0

    [digest] = mail.outbox
    assert digest.to == [user.email]
    assert "Heap overflow in Acme VPN" in digest.body
    assert "SQL injection in Widget" in digest.body
    assert SECRET not in digest.body
    assert Notice.objects.filter(emailed_at__isnull=True).count() == 0


@pytest.mark.django_db
def test_the_digest_beat_entry_exists(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["send-notice-digests"]
    assert entry["task"] == "advisories.tasks.send_notice_digests"


# The inbox over HTTP ------------------------------------------------------------------------------------------------


@pytest.fixture
def member_client(client, early_partner, member_of):
    user = member_of(early_partner)
    client.force_login(user)
    client.user = user
    return client


@pytest.mark.django_db
def test_the_navigation_shows_the_unread_count_and_marking_read_clears_it(
    member_client, secret_advisory, django_capture_on_commit_callbacks
):
    _release(secret_advisory, AccessLevel.EARLY, django_capture_on_commit_callbacks)

    inbox = member_client.get(reverse("advisories:notices"))
    assert inbox.context["unread_notices"] == 1
    assert secret_advisory.identifier in inbox.text

    member_client.post(reverse("advisories:notices_read"), {"notice": Notice.objects.get().pk})
    assert member_client.get(reverse("advisories:notices")).context["unread_notices"] == 0


@pytest.mark.django_db
def test_a_member_cannot_mark_someone_elses_notice_read(
    member_client, early_partner, member_of, secret_advisory, django_capture_on_commit_callbacks
):
    colleague = member_of(early_partner)
    _release(secret_advisory, AccessLevel.EARLY, django_capture_on_commit_callbacks)

    member_client.post(reverse("advisories:notices_read"), {"notice": Notice.objects.get(user=colleague).pk})

    assert Notice.objects.get(user=colleague).read_at is None


@pytest.mark.django_db
def test_a_member_chooses_the_daily_digest_over_http(member_client):
    response = member_client.post(reverse("advisories:notice_preferences"), {"email_mode": "daily"})

    assert response.status_code == 302
    assert member_client.user.notice_preference.email_mode == EmailMode.DAILY


@pytest.mark.django_db
def test_staff_have_no_inbox(client, manager):
    client.force_login(manager)

    assert client.get(reverse("advisories:notices")).status_code == 404


@pytest.mark.django_db
def test_inbox_query_count_does_not_grow_with_the_number_of_notices(member_client, django_capture_on_commit_callbacks):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert member_client.get(reverse("advisories:notices")).status_code == 200
        return len(captured)

    _release(AdvisoryFactory(), AccessLevel.EARLY, django_capture_on_commit_callbacks)
    few = queries()
    for _ in range(5):
        _release(AdvisoryFactory(), AccessLevel.EARLY, django_capture_on_commit_callbacks)

    assert queries() == few


@pytest.mark.django_db
def test_unknown_email_mode_is_refused(db):
    with pytest.raises(ValidationError, match="immediate, daily or none"):
        services.set_notice_preference(user=UserFactory(), email_mode="hourly")
