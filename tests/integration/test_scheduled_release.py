"""A scheduled release end to end: beat ticks `release_due_waves`, a real worker releases the due wave on
PostgreSQL through Redis, and partners see exactly what they are entitled to, from that moment and not before."""

import re
import time
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from advisories.models import Advisory, Artifact, Delivery, Notice, ReleaseWave, WaveStatus
from advisories.selectors import advisories_for_partner
from compliance.entitlements import partner_access
from core.levels import AccessLevel
from core.models import AuditEvent
from partners.models import Partner
from partners.services import suspend_partner
from tests.factories import (
    JurisdictionPolicyFactory,
    WaveFactory,
    acknowledge_handling_for_every_member,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

WAVE_LEAD_TIME = timedelta(seconds=4)
# How late a release may be: one beat interval plus slack for a loaded machine.
RELEASE_LAG_TOLERANCE = timedelta(seconds=6)
RELEASE_TIMEOUT_SECONDS = 20
# A late worker first boots, then catches up.
CATCH_UP_TIMEOUT_SECONDS = 30
NOTICE_TIMEOUT_SECONDS = 15
TICKS_AFTER_RELEASE = 3
EMAIL_RECIPIENT = re.compile(r"To: (\S+@\S+)")


@dataclass(frozen=True)
class PartnerCohort:
    """One partner of each kind the early wave must tell apart, each with one analyst."""

    early: Partner
    standard: Partner
    capped: Partner
    suspended: Partner
    unsigned: Partner

    def all(self) -> dict[str, Partner]:
        return vars(self)

    def analyst(self, partner: Partner):
        return partner.memberships.get().user


@pytest.fixture
def cohort(make_partner, member_of, manager, nda, poc_addendum):
    JurisdictionPolicyFactory(country="CN", cap_level=AccessLevel.GENERIC)
    partners = PartnerCohort(
        early=make_partner(level=AccessLevel.EARLY),
        standard=make_partner(level=AccessLevel.STANDARD, contracts=[nda]),
        capped=make_partner(level=AccessLevel.EARLY, country="CN"),
        suspended=make_partner(level=AccessLevel.EARLY),
        unsigned=make_partner(level=AccessLevel.EARLY, contracts=[]),
    )
    for kind, partner in partners.all().items():
        member_of(partner, user__email=f"analyst@{kind}.example.test")
    suspend_partner(partner=partners.suspended, actor=manager, reason="Leak under investigation.")
    return partners


def portal_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def visible_identifiers(user) -> list[str]:
    return list(advisories_for_partner(access=partner_access(user)).values_list("identifier", flat=True))


def artifact_url(artifact: Artifact) -> str:
    return reverse("advisories:artifact", args=[artifact.advisory.identifier, artifact.pk])


def deliveries_of(advisory: Advisory) -> set[tuple[int, int]]:
    return set(Delivery.objects.filter(advisory=advisory).values_list("partner_id", "level"))


def test_early_wave_reaches_only_entitled_partners_on_time_when_worker_and_beat_run(start_celery, cohort, advisory):
    standard_artifact = advisory.artifacts.get(level=AccessLevel.STANDARD)
    early_artifact = advisory.artifacts.get(level=AccessLevel.EARLY)
    celery = start_celery()
    celery.wait_until_releasing()
    wave = WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=timezone.now() + WAVE_LEAD_TIME)
    later_waves = [
        WaveFactory(advisory=advisory, level=AccessLevel.STANDARD, scheduled_at=timezone.now() + timedelta(days=1)),
        WaveFactory(advisory=advisory, level=AccessLevel.GENERIC, scheduled_at=advisory.public_release_at),
    ]
    early_analyst = cohort.analyst(cohort.early)

    # Observe while the worker keeps ticking; a sample counts only if it was complete before the wave's time.
    samples_before = 0
    while True:
        wave.refresh_from_db()
        delivered = deliveries_of(advisory)
        visible = {kind: visible_identifiers(cohort.analyst(p)) for kind, p in cohort.all().items()}
        early_download = portal_client(early_analyst).get(artifact_url(early_artifact))
        if timezone.now() >= wave.scheduled_at:
            break
        assert wave.status == WaveStatus.SCHEDULED
        assert delivered == set()
        assert all(identifiers == [] for identifiers in visible.values()), visible
        assert early_download.status_code == 404
        samples_before += 1
        time.sleep(0.5)
    assert samples_before > 0, "the machine was too slow to observe the advisory before its wave's time"

    celery.wait_for(
        lambda: ReleaseWave.objects.filter(pk=wave.pk, status=WaveStatus.RELEASED).exists(),
        timeout=RELEASE_TIMEOUT_SECONDS,
        what="the early wave to be released",
    )
    wave.refresh_from_db()
    assert wave.scheduled_at <= wave.released_at <= wave.scheduled_at + RELEASE_LAG_TOLERANCE
    assert deliveries_of(advisory) == {(cohort.early.pk, AccessLevel.EARLY)}
    assert all(w.status == WaveStatus.SCHEDULED for w in ReleaseWave.objects.filter(pk__in=[w.pk for w in later_waves]))

    assert visible_identifiers(early_analyst) == [advisory.identifier]
    acknowledge_handling_for_every_member(advisory)  # the acknowledgement step has its own tests
    early_portal = portal_client(early_analyst)
    assert early_portal.get(reverse("advisories:detail", args=[advisory.identifier])).status_code == 200
    assert early_portal.get(artifact_url(standard_artifact)).status_code == 200
    poc = early_portal.get(artifact_url(early_artifact))
    assert poc.status_code == 200
    with early_artifact.file.open("rb") as stored:
        assert stored.read() in b"".join(poc.streaming_content)

    # Entitled to less than early (404: not released to them) or to nothing at all (403: no access).
    expected_refusals = {"standard": 404, "capped": 404, "suspended": 403, "unsigned": 403}
    others = {kind: cohort.analyst(partner) for kind, partner in cohort.all().items() if kind in expected_refusals}
    refusals = {
        kind: portal_client(user).get(artifact_url(early_artifact)).status_code for kind, user in others.items()
    }
    assert refusals == expected_refusals
    assert all(visible_identifiers(user) == [] for user in others.values())

    delivery = Delivery.objects.get(advisory=advisory)
    celery.wait_for(
        lambda: Delivery.objects.filter(pk=delivery.pk, notified_at__isnull=False).exists(),
        timeout=NOTICE_TIMEOUT_SECONDS,
        what="the release notice to be sent",
    )
    # The notices are emailed by their own task after they are written (the notice outbox).
    celery.wait_for(
        lambda: Notice.objects.filter(advisory=advisory, user=early_analyst, emailed_at__isnull=False).exists(),
        timeout=NOTICE_TIMEOUT_SECONDS,
        what="the release notice to be emailed",
    )
    assert set(EMAIL_RECIPIENT.findall(celery.log("worker"))) == {early_analyst.email}


def test_overdue_waves_release_exactly_once_when_the_worker_starts_late(start_celery, cohort, advisory):
    overdue_waves = [
        WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=timezone.now() - timedelta(minutes=2)),
        WaveFactory(advisory=advisory, level=AccessLevel.STANDARD, scheduled_at=timezone.now() - timedelta(minutes=1)),
    ]
    started_at = timezone.now()

    celery = start_celery()
    celery.wait_for(
        lambda: ReleaseWave.objects.filter(advisory=advisory, status=WaveStatus.RELEASED).count() == len(overdue_waves),
        timeout=CATCH_UP_TIMEOUT_SECONDS,
        what="both overdue waves to be released",
    )
    ticks = celery.release_ticks_done()
    celery.wait_for(
        lambda: celery.release_ticks_done() >= ticks + TICKS_AFTER_RELEASE,
        timeout=TICKS_AFTER_RELEASE * 5,
        what=f"{TICKS_AFTER_RELEASE} more release ticks",
    )

    assert all(wave.released_at >= started_at for wave in ReleaseWave.objects.filter(advisory=advisory))
    # The early partner already holds the early delivery, which includes the standard content.
    assert deliveries_of(advisory) == {(cohort.early.pk, AccessLevel.EARLY), (cohort.standard.pk, AccessLevel.STANDARD)}
    assert AuditEvent.objects.filter(action="wave.released").count() == len(overdue_waves)
