"""The one delivery path (docs/design.md, "One delivery path"): every change of entitlement delivers what became due
through `deliver_due_waves`, never before a partner's cohort time, never above its live level, never twice; the
public archive reaches every organisation with access."""

from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from advisories import selectors, services, tasks
from advisories.models import AdvisoryStatus, Delivery, Notice
from compliance import services as compliance_services
from core.levels import AccessLevel
from core.models import AuditEvent
from partners import services as partner_services
from partners.models import Partner, PartnerStatus
from tests.factories import (
    AdvisoryFactory,
    AgreementFactory,
    ComplianceOfficerFactory,
    DocumentFactory,
    JurisdictionPolicyFactory,
    LevelCapFactory,
    MembershipFactory,
    PartnerFactory,
    WaveFactory,
)


@pytest.fixture
def t0():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def embargoed(advisory, t0):
    """An advisory under embargo: its early wave two hours ago, its standard wave an hour ago, public in a week."""
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=t0 - timedelta(hours=2))
    WaveFactory(advisory=advisory, level=AccessLevel.STANDARD, scheduled_at=t0 - timedelta(hours=1))
    WaveFactory(advisory=advisory, level=AccessLevel.GENERIC, scheduled_at=advisory.public_release_at)
    return advisory


@pytest.fixture
def public(t0):
    """An advisory made public yesterday."""
    advisory = AdvisoryFactory(public_release_at=t0 - timedelta(days=1))
    WaveFactory(advisory=advisory, level=AccessLevel.GENERIC, scheduled_at=advisory.public_release_at)
    return advisory


@pytest.fixture
def officer(db):
    return ComplianceOfficerFactory(email="officer@example.test")


def _release(at):
    with time_machine.travel(at, tick=False):
        services.release_due_waves()


def _held(partner):
    return sorted(
        (d.advisory.identifier, AccessLevel(d.level).label)
        for d in Delivery.objects.filter(partner=partner).select_related("advisory")
    )


def _admin(partner):
    return MembershipFactory(partner=partner, role="admin").user


def _sign(user, version, at, capture_on_commit):
    """Sign at `at`; what the signature queues after commit runs at that instant too."""
    with time_machine.travel(at, tick=False), capture_on_commit(execute=True):
        compliance_services.sign_agreement(
            user=user,
            contract_version=version,
            signer_name="Dana Admin",
            signer_title="CISO",
            consent=True,
            shown_text_sha256=version.text_sha256,
        )


@pytest.mark.django_db
def test_re_signing_the_nda_in_a_later_cohort_delivers_nothing_before_the_cohort_time(
    long_advisory, make_partner, manager, nda, t0, django_capture_on_commit_callbacks
):
    from guardian.shortcuts import assign_perm

    assign_perm("advisories.edit_advisory", manager, long_advisory)
    partner = make_partner(level=AccessLevel.EARLY)
    wave = WaveFactory(advisory=long_advisory, level=AccessLevel.EARLY, scheduled_at=t0 + timedelta(minutes=1))
    services.plan_release_cohort(
        actor=manager, wave=wave, name="later", scheduled_at=t0 + timedelta(hours=2), partners=[partner]
    )
    _release(t0 + timedelta(minutes=2))
    admin = _admin(partner)

    _sign(admin, nda, t0 + timedelta(minutes=3), django_capture_on_commit_callbacks)
    with time_machine.travel(t0 + timedelta(minutes=4), tick=False):
        services.reconcile_deliveries()
    assert _held(partner) == []

    _release(t0 + timedelta(hours=2, minutes=1))
    delivery = Delivery.objects.get(partner=partner)
    assert (delivery.level, delivery.cohort.name) == (AccessLevel.EARLY, "later")
    assert delivery.delivered_at == t0 + timedelta(hours=2, minutes=1)


@pytest.mark.django_db
def test_reinstatement_in_a_later_cohort_delivers_nothing_before_the_cohort_time(
    long_advisory, make_partner, manager, t0, django_capture_on_commit_callbacks
):
    from guardian.shortcuts import assign_perm

    assign_perm("advisories.edit_advisory", manager, long_advisory)
    partner = make_partner(level=AccessLevel.EARLY)
    wave = WaveFactory(advisory=long_advisory, level=AccessLevel.EARLY, scheduled_at=t0 + timedelta(minutes=1))
    services.plan_release_cohort(
        actor=manager, wave=wave, name="later", scheduled_at=t0 + timedelta(hours=2), partners=[partner]
    )
    partner_services.suspend_partner(partner=partner, actor=manager, reason="Under review")
    _release(t0 + timedelta(minutes=2))

    with time_machine.travel(t0 + timedelta(minutes=3), tick=False), django_capture_on_commit_callbacks(execute=True):
        partner_services.reinstate_partner(partner=partner, actor=manager, reason="Cleared")
    assert _held(partner) == []

    _release(t0 + timedelta(hours=2, minutes=1))
    assert Delivery.objects.get(partner=partner).cohort.name == "later"


@pytest.mark.django_db
def test_a_new_partner_that_signs_receives_the_embargoed_waves_at_its_level_and_the_public_archive(
    embargoed, public, nda, t0, django_capture_on_commit_callbacks
):
    _release(t0)
    partner = PartnerFactory(assigned_level=AccessLevel.STANDARD)  # approved, nothing signed yet
    admin = _admin(partner)
    assert _held(partner) == []

    _sign(admin, nda, t0 + timedelta(minutes=1), django_capture_on_commit_callbacks)

    assert _held(partner) == sorted([(embargoed.identifier, "standard"), (public.identifier, "generic")])
    # The public archive is delivered silently: a notice only for the advisory under embargo.
    assert list(Notice.objects.filter(partner=partner).values_list("advisory__identifier", flat=True)) == [
        embargoed.identifier
    ]
    assert [m.to for m in mail.outbox if public.identifier in m.subject] == []
    assert any(embargoed.identifier in m.subject for m in mail.outbox)


@pytest.mark.django_db
def test_a_new_partner_sees_the_public_archive_on_its_landing_page_after_signing(
    client, public, nda, t0, django_capture_on_commit_callbacks
):
    _release(t0)
    partner = PartnerFactory(assigned_level=AccessLevel.EARLY, legal_name="Newcomer Ltd")
    admin = _admin(partner)
    _sign(admin, nda, t0 + timedelta(minutes=1), django_capture_on_commit_callbacks)
    client.force_login(admin)

    with time_machine.travel(t0 + timedelta(minutes=2), tick=False):
        page = client.get("/portal/dashboard/")

    assert page.status_code == 200
    assert public.identifier in page.text
    assert "No advisory has been released to your organisation yet" not in page.text


@pytest.mark.django_db
def test_raising_the_assigned_level_delivers_the_higher_wave_now(
    embargoed, make_partner, manager, t0, django_capture_on_commit_callbacks
):
    partner = make_partner(level=AccessLevel.STANDARD)
    _release(t0)
    assert _held(partner) == [(embargoed.identifier, "standard")]

    with time_machine.travel(t0 + timedelta(minutes=1), tick=False), django_capture_on_commit_callbacks(execute=True):
        partner_services.change_assigned_level(
            partner=partner, level=AccessLevel.EARLY, actor=manager, reason="Vetted for PoC handling"
        )

    assert _held(partner) == sorted([(embargoed.identifier, "standard"), (embargoed.identifier, "early")])
    event = AuditEvent.objects.get(action="partner.level_changed")
    assert event.details == {"from": "standard", "to": "early", "reason": "Vetted for PoC handling"}


@pytest.mark.django_db
def test_lowering_the_assigned_level_delivers_nothing(embargoed, make_partner, manager, t0):
    partner = make_partner(level=AccessLevel.STANDARD)
    _release(t0)

    partner_services.change_assigned_level(partner=partner, level=AccessLevel.GENERIC, actor=manager, reason="Down")
    services.reconcile_deliveries()

    assert _held(partner) == [(embargoed.identifier, "standard")]


@pytest.mark.django_db
def test_an_overturned_level_cap_delivers_what_it_held_back(
    embargoed, make_partner, officer, t0, django_capture_on_commit_callbacks
):
    partner = make_partner(level=AccessLevel.EARLY)
    admin = _admin(partner)
    violation = compliance_services.report_violation(
        actor=officer, partner=partner, kind="misuse", severity="low", summary="Shared a PoC"
    )
    compliance_services.start_investigation(violation=violation, actor=officer, note="Looking")
    compliance_services.substantiate_violation(violation=violation, actor=officer, note="Confirmed")
    cap = compliance_services.impose_level_cap(
        violation=violation, actor=officer, cap_level=AccessLevel.STANDARD, reason="No PoC for now"
    )
    _release(timezone.now())
    assert _held(partner) == [(embargoed.identifier, "standard")]
    appeal = compliance_services.file_appeal(actor=admin, action=cap, statement="It was a test system.")

    with django_capture_on_commit_callbacks(execute=True):
        compliance_services.decide_appeal(actor=officer, appeal=appeal, overturn=True, decision="Test system indeed")

    assert (embargoed.identifier, "early") in _held(partner)


@pytest.mark.django_db
def test_a_level_cap_that_ends_by_the_clock_is_caught_up_by_the_reconciliation_task(embargoed, make_partner, t0):
    partner = make_partner(level=AccessLevel.EARLY)
    LevelCapFactory(partner=partner, cap_level=AccessLevel.NONE, ends_at=t0 + timedelta(minutes=30))
    _release(t0)
    with time_machine.travel(t0 + timedelta(minutes=29), tick=False):
        tasks.reconcile_deliveries(embargoed_only=True)
    assert _held(partner) == []

    with time_machine.travel(t0 + timedelta(minutes=31), tick=False):
        tasks.reconcile_deliveries(embargoed_only=True)

    assert _held(partner) == [(embargoed.identifier, "early")]


@pytest.mark.django_db
def test_a_relaxed_jurisdiction_policy_delivers_when_it_is_applied(
    embargoed, make_partner, t0, django_capture_on_commit_callbacks
):
    JurisdictionPolicyFactory(country="CN", cap_level=AccessLevel.GENERIC, effective_at=t0 - timedelta(days=30))
    partner = make_partner(level=AccessLevel.EARLY, country="CN")
    _release(t0)
    assert _held(partner) == []  # capped at generic: nothing before the public release
    JurisdictionPolicyFactory(country="CN", cap_level=AccessLevel.EARLY, effective_at=t0 + timedelta(hours=1))

    with time_machine.travel(t0 + timedelta(minutes=59), tick=False), django_capture_on_commit_callbacks(execute=True):
        compliance_services.apply_due_jurisdiction_policies()
    assert _held(partner) == []
    after = t0 + timedelta(hours=1, minutes=1)
    with time_machine.travel(after, tick=False), django_capture_on_commit_callbacks(execute=True):
        compliance_services.apply_due_jurisdiction_policies()

    assert _held(partner) == [(embargoed.identifier, "early")]


@pytest.mark.django_db
def test_a_jurisdiction_capped_partner_gets_only_the_generic_description_at_the_public_release(
    advisory, make_partner, t0
):
    JurisdictionPolicyFactory(country="CN", cap_level=AccessLevel.GENERIC, effective_at=t0 - timedelta(days=30))
    partner = make_partner(level=AccessLevel.EARLY, country="CN")
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY, scheduled_at=t0)
    WaveFactory(advisory=advisory, level=AccessLevel.GENERIC, scheduled_at=advisory.public_release_at)
    _release(t0 + timedelta(minutes=1))
    assert _held(partner) == []

    _release(advisory.public_release_at + timedelta(minutes=1))

    assert _held(partner) == [(advisory.identifier, "generic")]


@pytest.mark.django_db
def test_renewing_an_expired_agreement_delivers_what_was_released_meanwhile(
    embargoed, make_partner, nda, poc_addendum, t0, django_capture_on_commit_callbacks
):
    partner = make_partner(level=AccessLevel.EARLY, contracts=[poc_addendum])
    AgreementFactory(
        partner=partner,
        contract_version=nda,
        signed_at=t0 - timedelta(days=400),
        valid_until=t0 - timedelta(days=35),
    )
    admin = _admin(partner)
    _release(t0)
    assert _held(partner) == []

    _sign(admin, nda, t0 + timedelta(minutes=5), django_capture_on_commit_callbacks)

    assert _held(partner) == [(embargoed.identifier, "early")]


@pytest.mark.django_db
@pytest.mark.parametrize("standing", ["suspended", "removed", "capped_to_none", "unsigned"])
def test_an_organisation_without_access_is_due_nothing(standing, embargoed, public, make_partner, manager, t0):
    partner = make_partner(level=AccessLevel.EARLY, contracts=[] if standing == "unsigned" else None)
    if standing == "suspended":
        partner_services.suspend_partner(partner=partner, actor=manager, reason="x")
    elif standing == "removed":
        partner_services.remove_partner(partner=partner, actor=manager, reason="x")
    elif standing == "capped_to_none":
        LevelCapFactory(partner=partner, cap_level=AccessLevel.NONE)
    _release(t0)

    services.deliver_due_waves(partner_ids=[partner.pk])
    services.reconcile_deliveries()

    assert _held(partner) == []
    assert [d for d in selectors.due_deliveries(at=timezone.now()) if d.partner_id == partner.pk] == []


@pytest.mark.django_db
def test_delivering_twice_delivers_once_and_audits_once(embargoed, public, make_partner, t0):
    _release(t0)
    partners = [make_partner(level=AccessLevel.STANDARD) for _ in range(2)]  # joined after the releases
    before = AuditEvent.objects.filter(action="deliveries.created").count()

    first = services.deliver_due_waves(partner_ids=[p.pk for p in partners])
    second = services.deliver_due_waves(partner_ids=[p.pk for p in partners])

    assert len(first) == 4
    assert second == []
    assert Delivery.objects.filter(partner__in=partners).count() == 4
    events = AuditEvent.objects.filter(action="deliveries.created")[before:]
    assert len(events) == 1
    assert (events[0].details["deliveries"], events[0].details["public_archive"]) == (4, 2)


@pytest.mark.django_db
def test_nothing_is_delivered_above_the_live_level_or_from_a_withdrawn_advisory(embargoed, make_partner, manager, t0):
    generic_only = make_partner(level=AccessLevel.GENERIC)
    _release(t0)
    withdrawn = AdvisoryFactory(status=AdvisoryStatus.WITHDRAWN)
    WaveFactory(advisory=withdrawn, level=AccessLevel.EARLY, scheduled_at=t0 - timedelta(hours=1))

    services.reconcile_deliveries()

    assert _held(generic_only) == []  # generic content comes at the public release, not before
    assert not Delivery.objects.filter(advisory=withdrawn).exists()


def _queries_to_deliver(make_partner, count):
    partners = [make_partner(level=AccessLevel.EARLY) for _ in range(count)]
    with CaptureQueriesContext(connection) as queries:
        delivered = services.deliver_due_waves(partner_ids=[p.pk for p in partners])
    assert len(delivered) == 2 * count
    return len(queries)


@pytest.mark.django_db
def test_deliver_due_waves_makes_the_same_number_of_queries_for_3_or_30_partners(embargoed, public, make_partner, t0):
    _release(t0)

    assert _queries_to_deliver(make_partner, 3) == _queries_to_deliver(make_partner, 30)


@pytest.mark.django_db
def test_entitlement_change_queues_the_delivery_after_commit_only(
    embargoed, make_partner, manager, t0, django_capture_on_commit_callbacks
):
    partner = make_partner(level=AccessLevel.STANDARD)
    _release(t0)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        partner_services.change_assigned_level(partner=partner, level=AccessLevel.EARLY, actor=manager, reason="Up")
    assert _held(partner) == [(embargoed.identifier, "standard")]  # not before commit

    for callback in callbacks:
        callback()
    assert (embargoed.identifier, "early") in _held(partner)


@pytest.mark.django_db
def test_change_assigned_level_refuses_partners_the_same_level_and_removed_organisations(manager, make_partner):
    from django.core.exceptions import PermissionDenied, ValidationError

    partner = make_partner(level=AccessLevel.STANDARD)
    admin = _admin(partner)
    with pytest.raises(PermissionDenied, match="program manager"):
        partner_services.change_assigned_level(partner=partner, level=AccessLevel.EARLY, actor=admin, reason="me")
    with pytest.raises(ValidationError, match="already assigned standard"):
        partner_services.change_assigned_level(partner=partner, level=AccessLevel.STANDARD, actor=manager, reason="x")
    with pytest.raises(ValidationError, match="reason"):
        partner_services.change_assigned_level(partner=partner, level=AccessLevel.EARLY, actor=manager, reason=" ")
    with pytest.raises(ValidationError, match="generic, standard or early"):
        partner_services.change_assigned_level(partner=partner, level=AccessLevel.NONE, actor=manager, reason="x")
    partner_services.remove_partner(partner=partner, actor=manager, reason="Left")
    with pytest.raises(ValidationError, match="removed"):
        partner_services.change_assigned_level(partner=partner, level=AccessLevel.EARLY, actor=manager, reason="x")
    assert Partner.objects.get(pk=partner.pk).assigned_level == AccessLevel.STANDARD


@pytest.mark.django_db
def test_program_managers_change_the_level_from_the_partner_page_and_compliance_officers_cannot(
    client, manager, officer, make_partner
):
    partner = make_partner(level=AccessLevel.STANDARD)
    url = f"/program/partners/{partner.pk}/level/"
    client.force_login(officer)
    assert client.post(url, {"level": AccessLevel.EARLY, "reason": "x"}).status_code == 403
    client.force_login(manager)
    assert 'action="' + url + '"' in client.get(f"/program/partners/{partner.pk}/").text

    response = client.post(url, {"level": AccessLevel.EARLY, "reason": "Vetted"})

    assert response.status_code == 302
    partner.refresh_from_db()
    assert partner.assigned_level == AccessLevel.EARLY


def test_reconciliation_runs_on_beat_at_the_configured_intervals():
    embargoed = settings.CELERY_BEAT_SCHEDULE["reconcile-embargoed-deliveries"]
    everything = settings.CELERY_BEAT_SCHEDULE["reconcile-all-deliveries"]

    assert embargoed["task"] == everything["task"] == "advisories.tasks.reconcile_deliveries"
    assert embargoed["kwargs"] == {"embargoed_only": True}
    assert embargoed["schedule"] == timedelta(seconds=settings.RECONCILE_DELIVERIES_SECONDS)
    assert everything["schedule"] == timedelta(seconds=settings.RECONCILE_ALL_DELIVERIES_SECONDS)
    assert (settings.RECONCILE_DELIVERIES_SECONDS, settings.RECONCILE_ALL_DELIVERIES_SECONDS) == (60.0, 3600.0)


@pytest.mark.django_db
def test_nothing_but_the_release_path_creates_deliveries_when_an_organisation_is_active_again(
    embargoed, make_partner, manager, t0
):
    """A suspended organisation's status, read live, is what the due set follows: restored by the model alone (no
    signal), it is still caught up by the reconciliation, at its level."""
    partner = make_partner(level=AccessLevel.STANDARD)
    partner_services.suspend_partner(partner=partner, actor=manager, reason="x")
    _release(t0)
    Partner.objects.filter(pk=partner.pk).update(status=PartnerStatus.ACTIVE)

    services.reconcile_deliveries(embargoed_only=True)

    assert _held(partner) == [(embargoed.identifier, "standard")]


def _queries_for_archive(make_partner, advisories):
    for _ in range(advisories):
        public = AdvisoryFactory(public_release_at=timezone.now() - timedelta(days=1))
        DocumentFactory(advisory=public, level=AccessLevel.GENERIC)
        WaveFactory(advisory=public, level=AccessLevel.GENERIC, scheduled_at=public.public_release_at)
    services.release_due_waves()
    newcomer = make_partner(level=AccessLevel.STANDARD)
    with CaptureQueriesContext(connection) as queries:
        delivered = services.deliver_due_waves(partner_ids=[newcomer.pk])
    assert len(delivered) == Delivery.objects.filter(partner=newcomer).count() >= advisories
    return len(queries)


@pytest.mark.django_db
def test_the_public_archive_costs_the_same_number_of_queries_for_2_or_10_advisories(make_partner):
    assert _queries_for_archive(make_partner, 2) == _queries_for_archive(make_partner, 10)


@pytest.mark.django_db
def test_signing_while_the_broker_is_down_succeeds_and_the_reconciliation_delivers(
    embargoed, public, nda, t0, django_capture_on_commit_callbacks
):
    _release(t0)
    partner = PartnerFactory(assigned_level=AccessLevel.STANDARD)
    admin = _admin(partner)
    with mock.patch.object(
        tasks.deliver_due_waves_to_partners, "delay", side_effect=BrokerUnavailable("connection refused")
    ):
        _sign(admin, nda, t0 + timedelta(minutes=1), django_capture_on_commit_callbacks)
    assert partner.agreements.exists()
    assert _held(partner) == []

    with time_machine.travel(t0 + timedelta(minutes=2), tick=False):
        tasks.reconcile_deliveries(embargoed_only=True)

    assert _held(partner) == [(embargoed.identifier, "standard")]
