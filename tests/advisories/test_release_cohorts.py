"""Cohorts: a level's wave split into parts released at staggered times, so that the time a leak is observed
narrows the suspects to the cohorts that already held the advisory."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm

from advisories import selectors, services
from advisories.models import Delivery, ReleaseCohort
from core.levels import AccessLevel
from core.models import AuditEvent
from tests.factories import WaveFactory


@pytest.fixture
def start():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def plan(long_advisory, make_partner, manager, start):
    """An early wave at `start` for two partners; a third partner in a cohort two hours later, planned by the
    advisory's assigned manager."""
    assign_perm("advisories.edit_advisory", manager, long_advisory)
    partners = [make_partner(level=AccessLevel.EARLY, legal_name=f"Cohort Partner {n}") for n in range(3)]
    wave = WaveFactory(advisory=long_advisory, level=AccessLevel.EARLY, scheduled_at=start)
    cohort = services.plan_release_cohort(
        actor=manager, wave=wave, name="second", scheduled_at=start + timedelta(hours=2), partners=[partners[2]]
    )
    return {"wave": wave, "cohort": cohort, "partners": partners, "advisory": long_advisory}


@pytest.mark.django_db
def test_a_cohort_partner_is_not_delivered_at_the_wave_time(plan, start):
    with time_machine.travel(start + timedelta(minutes=1)):
        services.release_due_waves()

    delivered = set(Delivery.objects.values_list("partner", flat=True))
    assert delivered == {plan["partners"][0].pk, plan["partners"][1].pk}


@pytest.mark.django_db
def test_a_cohort_is_delivered_when_its_time_comes(plan, start):
    with time_machine.travel(start + timedelta(minutes=1)):
        services.release_due_waves()
    with time_machine.travel(start + timedelta(hours=2, minutes=1), tick=False):
        services.release_due_waves()

    delivery = Delivery.objects.get(partner=plan["partners"][2])
    assert delivery.cohort == plan["cohort"]
    assert delivery.delivered_at == start + timedelta(hours=2, minutes=1)
    plan["cohort"].refresh_from_db()
    assert plan["cohort"].released_at is not None


@pytest.mark.django_db
def test_releasing_again_delivers_a_cohort_only_once(plan, start):
    with time_machine.travel(start + timedelta(hours=3)):
        services.release_due_waves()
        services.release_due_waves()

    assert Delivery.objects.filter(partner=plan["partners"][2]).count() == 1


@pytest.mark.django_db
def test_exposure_report_rules_out_a_cohort_released_after_the_observation(plan, start, compliance_officer):
    with time_machine.travel(start + timedelta(minutes=1)):
        services.release_due_waves()
    with time_machine.travel(start + timedelta(hours=3)):
        services.release_due_waves()
        incident = services.open_leak_incident(
            actor=compliance_officer,
            advisory=plan["advisory"],
            observed_at=start + timedelta(hours=1),
            description="Exploitation seen in the wild.",
        )

    suspects = {exposure.partner for exposure in selectors.exposure_report(incident=incident)}

    assert suspects == {plan["partners"][0], plan["partners"][1]}
    assert list(selectors.cohorts_not_yet_released(incident=incident)) == [plan["cohort"]]


@pytest.mark.django_db
def test_the_leak_page_names_the_cohort_ruled_out_by_timing(plan, start, client, compliance_officer):
    with time_machine.travel(start + timedelta(hours=3)):
        services.release_due_waves()
        incident = services.open_leak_incident(
            actor=compliance_officer,
            advisory=plan["advisory"],
            observed_at=start + timedelta(hours=1),
            description="Exploitation seen in the wild.",
        )
    client.force_login(compliance_officer)

    response = client.get(reverse("leaks:detail", args=[incident.pk]))

    assert "Ruled out by timing" in response.text
    assert "cohort “second” (1 organisation" in response.text


@pytest.mark.django_db
@pytest.mark.parametrize("offset", [timedelta(0), timedelta(days=30)], ids=["at-the-wave", "after-public-release"])
def test_a_cohort_must_release_after_its_wave_and_by_the_public_release(plan, manager, start, offset):
    with pytest.raises(ValidationError, match="A cohort releases after its wave and no later than the public release"):
        services.plan_release_cohort(
            actor=manager, wave=plan["wave"], name="bad", scheduled_at=start + offset, partners=[]
        )


@pytest.mark.django_db
def test_a_partner_can_be_in_only_one_cohort_of_a_wave(plan, manager, start):
    with pytest.raises(ValidationError, match="A partner can be in only one cohort of a wave"):
        services.plan_release_cohort(
            actor=manager,
            wave=plan["wave"],
            name="third",
            scheduled_at=start + timedelta(hours=3),
            partners=[plan["partners"][2]],
        )


@pytest.mark.django_db
def test_a_released_wave_can_no_longer_be_split(plan, manager, start):
    with time_machine.travel(start + timedelta(minutes=1)):
        services.release_due_waves()
        plan["wave"].refresh_from_db()

        with pytest.raises(ValidationError, match="Only a scheduled wave can be split into cohorts"):
            services.plan_release_cohort(
                actor=manager,
                wave=plan["wave"],
                name="late",
                scheduled_at=start + timedelta(hours=4),
                partners=[plan["partners"][0]],
            )


@pytest.mark.django_db
def test_a_manager_plans_a_cohort_in_the_admin_through_the_service(plan, client, manager, start):
    call_command("sync_roles", verbosity=0)
    client.force_login(manager)

    response = client.post(
        reverse("admin:advisories_releasecohort_add"),
        {
            "wave": plan["wave"].pk,
            "name": "third",
            "scheduled_at_0": (start + timedelta(hours=3)).strftime("%Y-%m-%d"),
            "scheduled_at_1": (start + timedelta(hours=3)).strftime("%H:%M:%S"),
            "partners": [plan["partners"][1].pk],
        },
    )

    assert response.status_code == 302
    cohort = ReleaseCohort.objects.get(name="third")
    assert list(cohort.partners.all()) == [plan["partners"][1]]
    assert AuditEvent.objects.filter(action="cohort.planned", target_id=str(cohort.pk)).exists()


@pytest.mark.django_db
def test_the_admin_refuses_a_partner_already_in_a_cohort(plan, client, manager, start):
    call_command("sync_roles", verbosity=0)
    client.force_login(manager)

    response = client.post(
        reverse("admin:advisories_releasecohort_add"),
        {
            "wave": plan["wave"].pk,
            "name": "again",
            "scheduled_at_0": (start + timedelta(hours=3)).strftime("%Y-%m-%d"),
            "scheduled_at_1": (start + timedelta(hours=3)).strftime("%H:%M:%S"),
            "partners": [plan["partners"][2].pk],
        },
    )

    assert response.status_code == 200
    assert "A partner can be in only one cohort of a wave." in response.text
    assert not ReleaseCohort.objects.filter(name="again").exists()
