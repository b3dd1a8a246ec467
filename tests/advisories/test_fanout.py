"""The set-based fan-out of the one delivery path (`advisories.fanout`): the deliveries inserted are exactly the due
set the selector reads (one SQL rule for both), with their grants, audit event and notice outbox rows in the same
transaction; a constant number of queries whatever the number of organisations; nothing new the second time. Run on
SQLite by default and on PostgreSQL when DATABASE_URL says so: the same statements on both."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from advisories import selectors, services
from advisories.models import (
    AdvisoryDocumentGroupObjectPermission,
    AdvisoryGroupObjectPermission,
    ArtifactGroupObjectPermission,
    Delivery,
    ReleaseCohort,
)
from advisories.services import release as release_services
from core.levels import AccessLevel
from core.models import AuditEvent
from partners.models import Partner, PartnerStatus
from tests.factories import AdvisoryFactory, ArtifactFactory, DocumentFactory, JurisdictionPolicyFactory, WaveFactory

LEVELS = [AccessLevel.EARLY, AccessLevel.STANDARD, AccessLevel.GENERIC]


def _advisory_with_content():
    advisory = AdvisoryFactory()
    for level in LEVELS:
        DocumentFactory(advisory=advisory, level=level)
    ArtifactFactory(advisory=advisory, level=AccessLevel.STANDARD, name="Detection rule")
    ArtifactFactory(advisory=advisory, level=AccessLevel.EARLY, name="PoC")
    return advisory


def _grants(partners):
    groups = [partner.group_id for partner in partners]
    return sorted(
        (model.__name__, row)
        for model in (
            AdvisoryGroupObjectPermission,
            AdvisoryDocumentGroupObjectPermission,
            ArtifactGroupObjectPermission,
        )
        for row in model.objects.filter(group_id__in=groups).values_list("group_id", "content_object_id")
    )


def _release_queries(make_partner, organisations):
    """Queries of releasing a new advisory's early and standard waves (due now) to `organisations` organisations of
    every level, the first three in a cohort of the early wave still to come, the fourth suspended."""
    while Partner.objects.count() < organisations:
        make_partner(level=LEVELS[Partner.objects.count() % 3])
    partners = list(Partner.objects.order_by("pk"))
    Partner.objects.filter(pk=partners[3].pk).update(status=PartnerStatus.SUSPENDED)
    advisory = _advisory_with_content()
    now = timezone.now()
    early = WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=now - timedelta(minutes=1))
    WaveFactory(advisory=advisory, level=AccessLevel.STANDARD, scheduled_at=now - timedelta(minutes=1))
    cohort = ReleaseCohort.objects.create(wave=early, name="later", scheduled_at=now + timedelta(hours=1))
    cohort.partners.set(partners[:3])
    with CaptureQueriesContext(connection) as queries:
        released = services.release_due_waves()
    assert len(released) == 2
    # Early partners receive the early wave, but the one in the later cohort (the first) receives the standard wave
    # meanwhile; standard partners the standard wave; generic ones nothing before the public release.
    expected = {
        (p.pk, AccessLevel.STANDARD if i == 0 else p.assigned_level)
        for i, p in enumerate(partners)
        if i != 3 and p.assigned_level > AccessLevel.GENERIC
    }
    assert set(Delivery.objects.filter(advisory=advisory).values_list("partner_id", "level")) == expected
    return len(queries)


@pytest.mark.django_db
def test_a_release_to_200_organisations_makes_as_many_queries_as_to_10(make_partner):
    _release_queries(make_partner, 4)  # caches of the first release (content types, contract versions)

    assert _release_queries(make_partner, 10) == _release_queries(make_partner, 200)


@pytest.fixture
def varied(make_partner, nda, t0):
    """An advisory under embargo (early and standard waves released, a cohort of the early wave still to come) and
    a public one, and organisations in every situation the rule distinguishes."""
    partners = {
        "early": make_partner(level=AccessLevel.EARLY),
        "early in the later cohort": make_partner(level=AccessLevel.EARLY),
        "early in the past cohort": make_partner(level=AccessLevel.EARLY),
        "early holding standard": make_partner(level=AccessLevel.EARLY),
        "standard": make_partner(level=AccessLevel.STANDARD),
        "generic": make_partner(level=AccessLevel.GENERIC),
        "capped to generic": make_partner(level=AccessLevel.EARLY, country="CN"),
        "suspended": make_partner(level=AccessLevel.EARLY, status=PartnerStatus.SUSPENDED),
        "removed": make_partner(level=AccessLevel.EARLY, status=PartnerStatus.REMOVED),
        "unsigned": make_partner(level=AccessLevel.EARLY, contracts=[]),
        "no poc addendum": make_partner(level=AccessLevel.EARLY, contracts=[nda]),
    }
    JurisdictionPolicyFactory(country="CN", cap_level=AccessLevel.GENERIC, effective_at=t0 - timedelta(days=1))
    embargoed = _advisory_with_content()
    early = WaveFactory(advisory=embargoed, level=AccessLevel.EARLY, scheduled_at=t0 - timedelta(hours=2))
    standard = WaveFactory(advisory=embargoed, level=AccessLevel.STANDARD, scheduled_at=t0 - timedelta(hours=1))
    WaveFactory(advisory=embargoed, level=AccessLevel.GENERIC, scheduled_at=embargoed.public_release_at)
    later = ReleaseCohort.objects.create(wave=early, name="later", scheduled_at=t0 + timedelta(hours=1))
    later.partners.set([partners["early in the later cohort"]])
    past = ReleaseCohort.objects.create(wave=early, name="past", scheduled_at=t0 - timedelta(minutes=30))
    past.partners.set([partners["early in the past cohort"]])
    public = _advisory_with_content()
    public.public_release_at = t0 - timedelta(days=1)
    public.save()
    WaveFactory(advisory=public, level=AccessLevel.GENERIC, scheduled_at=public.public_release_at)
    for wave in (*embargoed.waves.exclude(level=AccessLevel.GENERIC), *public.waves.all()):
        wave.mark_released()
        wave.released_at = wave.scheduled_at
        wave.save()
    embargoed.mark_released()
    embargoed.save()
    public.mark_released()
    public.mark_public()
    public.save()
    Delivery.objects.create(
        wave=standard,
        advisory=embargoed,
        partner=partners["early holding standard"],
        level=AccessLevel.STANDARD,
        fingerprint_token="0" * 64,
        delivered_at=t0 - timedelta(hours=1),
        notified_at=t0 - timedelta(hours=1),
    )
    return partners, embargoed, public


@pytest.fixture
def t0():
    return timezone.now().replace(microsecond=0)


@pytest.mark.django_db
def test_the_fan_out_inserts_exactly_the_due_set_the_selector_reads(varied, t0):
    partners, embargoed, public = varied
    name_of = {partner.pk: name for name, partner in partners.items()}
    due = selectors.due_deliveries(at=t0)
    before = set(Delivery.objects.values_list("pk", flat=True))

    delivered = services.deliver_due_waves(at=t0)

    new = Delivery.objects.exclude(pk__in=before).select_related("wave", "cohort")
    assert sorted(delivered) == sorted(d.pk for d in new)
    assert {(d.partner_id, d.wave_id, d.cohort_id, d.notified_at is not None) for d in new} == {
        (item.partner_id, item.wave.pk, item.cohort.pk if item.cohort else None, item.public_archive) for item in due
    }
    assert sorted(
        (name_of[d.partner_id], d.advisory_id, AccessLevel(d.level).label, d.cohort_id) for d in new
    ) == sorted(
        [
            ("early", embargoed.pk, "early", None),
            (
                "early in the past cohort",
                embargoed.pk,
                "early",
                embargoed.waves.get(level=3).cohorts.get(name="past").pk,
            ),
            ("early in the later cohort", embargoed.pk, "standard", None),
            ("early holding standard", embargoed.pk, "early", None),
            ("standard", embargoed.pk, "standard", None),
            ("no poc addendum", embargoed.pk, "standard", None),
            *(
                (name, public.pk, "generic", None)
                for name in (
                    "early",
                    "early in the later cohort",
                    "early in the past cohort",
                    "early holding standard",
                    "standard",
                    "generic",
                    "capped to generic",
                    "no poc addendum",
                )
            ),
        ]
    )
    # Each its own secret token; delivered now; the public archive marked notified (silent), the rest pending for
    # the notice outbox.
    tokens = [d.fingerprint_token for d in new]
    assert len(set(tokens)) == len(tokens)
    assert all(re.fullmatch(r"[0-9a-f]{64}", token) for token in tokens)
    assert {d.delivered_at for d in new} == {t0}
    assert {d.notified_at for d in new if d.advisory_id == public.pk} == {t0}
    assert {d.notified_at for d in new if d.advisory_id == embargoed.pk} == {None}
    event = AuditEvent.objects.get(action="deliveries.created")
    assert event.details == {
        "deliveries": 14,
        "public_archive": 8,
        "partners": 8,
        "advisories": sorted([embargoed.identifier, public.identifier]),
        "at": t0.isoformat(),
    }


@pytest.mark.django_db
def test_each_delivery_grants_the_advisory_and_its_content_up_to_its_level(varied, t0):
    partners, embargoed, public = varied
    services.deliver_due_waves(at=t0)

    def granted(partner, model, advisory):
        return set(
            model.objects.filter(group_id=partner.group_id)
            .filter(**({"content_object": advisory} if model is AdvisoryGroupObjectPermission else {}))
            .filter(**({} if model is AdvisoryGroupObjectPermission else {"content_object__advisory": advisory}))
            .values_list("content_object_id", flat=True)
        )

    for name, level in [("early", AccessLevel.EARLY), ("early in the later cohort", AccessLevel.STANDARD)]:
        partner = partners[name]
        assert granted(partner, AdvisoryGroupObjectPermission, embargoed) == {embargoed.pk}
        assert granted(partner, AdvisoryDocumentGroupObjectPermission, embargoed) == set(
            embargoed.documents.filter(level__lte=level).values_list("pk", flat=True)
        )
        assert granted(partner, ArtifactGroupObjectPermission, embargoed) == set(
            embargoed.artifacts.filter(level__lte=level).values_list("pk", flat=True)
        )
    generic = partners["generic"]
    assert granted(generic, AdvisoryGroupObjectPermission, embargoed) == set()
    assert granted(generic, AdvisoryDocumentGroupObjectPermission, public) == set(
        public.documents.filter(level=AccessLevel.GENERIC).values_list("pk", flat=True)
    )
    assert granted(generic, ArtifactGroupObjectPermission, public) == set()
    for name in ("suspended", "removed", "unsigned"):
        assert _grants([partners[name]]) == []


@pytest.mark.django_db
def test_delivering_again_creates_nothing_new(varied, t0, monkeypatch, django_capture_on_commit_callbacks):
    partners, embargoed, _ = varied
    queued = []
    monkeypatch.setattr(release_services, "_queue_release_notices", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        first = services.deliver_due_waves(at=t0)
    state = (set(Delivery.objects.values_list("pk", flat=True)), _grants(partners.values()))
    events = AuditEvent.objects.filter(action="deliveries.created").count()

    with django_capture_on_commit_callbacks(execute=True):
        second = services.deliver_due_waves(at=t0)
        later = services.deliver_due_waves(at=t0 + timedelta(minutes=1))

    assert len(first) == 14
    # After commit, the notices of the deliveries under embargo only (the public archive is silent), once.
    assert queued == [sorted(Delivery.objects.filter(pk__in=first, advisory=embargoed).values_list("pk", flat=True))]
    assert second == later == []
    assert (set(Delivery.objects.values_list("pk", flat=True)), _grants(partners.values())) == state
    assert AuditEvent.objects.filter(action="deliveries.created").count() == events


@pytest.mark.django_db
def test_a_grant_already_held_is_kept_and_the_rest_granted(varied, t0):
    partners, embargoed, _ = varied
    group = partners["early"].group
    AdvisoryGroupObjectPermission.objects.create(
        group=group, permission=Permission.objects.get(codename="receive_advisory"), content_object=embargoed
    )

    services.deliver_due_waves(at=t0)

    assert AdvisoryGroupObjectPermission.objects.filter(group=group, content_object=embargoed).count() == 1
    assert (
        AdvisoryDocumentGroupObjectPermission.objects.filter(group=group, content_object__advisory=embargoed).count()
        == embargoed.documents.count()
    )
