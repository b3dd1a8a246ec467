"""Leak investigations: who held the advisory before the leak, and the indicators partners reported."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import (
    Count,
    Q,
    QuerySet,
)

from advisories.models import (
    Delivery,
    DownloadEvent,
    LeakIncident,
    PartnerIndicator,
    ReleaseCohort,
)
from compliance.models import JurisdictionPolicy, Violation, ViolationStatus
from core.levels import AccessLevel
from partners.models import Partner, PartnerStatus


@dataclass
class Exposure:
    """One organisation that held the advisory before a leak was observed."""

    partner: Partner
    deliveries: list[Delivery]
    events: list[DownloadEvent] = field(default_factory=list)
    risk_factors: list[str] = field(default_factory=list)
    traced: bool = False

    @property
    def level(self) -> int:
        return max(d.level for d in self.deliveries)

    @property
    def level_label(self) -> str:
        return AccessLevel(self.level).label

    @property
    def delivered_at(self):
        return min(d.delivered_at for d in self.deliveries)

    @property
    def first_access(self) -> DownloadEvent | None:
        return self.events[0] if self.events else None

    @property
    def people(self) -> list[str]:
        return sorted({event.user.email for event in self.events})

    @property
    def ip_addresses(self) -> list[str]:
        return sorted({event.ip_address for event in self.events if event.ip_address})


RECENT_ACCESS = timedelta(hours=24)


def exposure_report(*, incident: LeakIncident) -> list[Exposure]:
    """Every organisation that held the advisory before the leak was observed: its deliveries up to that moment,
    its views and downloads up to that moment (who, from where), and its risk factors. Organisations delivered
    later are not listed. A fixed number of queries, whatever the number of organisations."""
    observed_at = incident.observed_at
    deliveries = list(
        Delivery.objects.filter(advisory_id=incident.advisory_id, delivered_at__lte=observed_at)
        .select_related("partner", "cohort")
        .order_by("delivered_at", "pk")
    )
    exposures: dict[int, Exposure] = {}
    for delivery in deliveries:
        exposures.setdefault(delivery.partner_id, Exposure(partner=delivery.partner, deliveries=[])).deliveries.append(
            delivery
        )
    if not exposures:
        return []
    events = (
        DownloadEvent.objects.filter(
            advisory_id=incident.advisory_id, partner_id__in=exposures, created_at__lte=observed_at
        )
        .select_related("user", "artifact")
        .order_by("created_at", "pk")
    )
    for event in events:
        exposures[event.partner_id].events.append(event)
    prior_violations = dict(
        Violation.objects.filter(partner_id__in=exposures, reported_at__lt=incident.opened_at)
        .exclude(status=ViolationStatus.DISMISSED)
        .values_list("partner_id")
        .annotate(count=Count("pk"))
    )
    capped_countries = _countries_under_a_cap(
        countries={e.partner.country.code for e in exposures.values()}, at=observed_at
    )
    traced_partners = {
        sample.trace_result["match"]["partner"]
        for sample in incident.samples.all()
        if (sample.trace_result or {}).get("match")
    }
    for exposure in exposures.values():
        exposure.traced = exposure.partner.pk in traced_partners
        exposure.risk_factors = _risk_factors(
            exposure,
            observed_at=observed_at,
            prior_violations=prior_violations.get(exposure.partner.pk, 0),
            capped_country=exposure.partner.country.code in capped_countries,
        )
    return sorted(exposures.values(), key=lambda e: (not e.traced, -len(e.risk_factors), e.delivered_at))


def cohorts_not_yet_released(*, incident: LeakIncident) -> QuerySet[ReleaseCohort]:
    """The cohorts of the advisory's waves that received it only after the leak was observed (or not yet): their
    organisations are ruled out by timing."""
    observed_at = incident.observed_at
    return (
        ReleaseCohort.objects.filter(wave__advisory_id=incident.advisory_id)
        .filter(Q(released_at__gt=observed_at) | Q(released_at__isnull=True, scheduled_at__gt=observed_at))
        .select_related("wave")
        .annotate(partner_count=Count("partners", distinct=True))
        .order_by("scheduled_at", "pk")
    )


def _countries_under_a_cap(*, countries: set[str], at) -> set[str]:
    """Countries whose jurisdiction policy in force at `at` caps access below early (e.g. a duty to report)."""
    latest: dict[str, int] = {}
    for country, cap in (
        JurisdictionPolicy.objects.filter(country__in=countries, effective_at__lte=at)
        .order_by("country", "effective_at")
        .values_list("country", "cap_level")
    ):
        latest[country] = cap
    return {country for country, cap in latest.items() if cap < AccessLevel.EARLY}


def _risk_factors(exposure: Exposure, *, observed_at, prior_violations: int, capped_country: bool) -> list[str]:
    factors = []
    if exposure.traced:
        factors.append("A leaked sample carries this organisation's fingerprint.")
    early_files = [e for e in exposure.events if e.artifact is not None and e.artifact.level >= AccessLevel.EARLY]
    if early_files:
        factors.append(f"Downloaded early-level files (proof of concept) {len(early_files)} time(s).")
    if exposure.level >= AccessLevel.EARLY:
        factors.append("Held early access, proof of concept included.")
    recent = [e for e in exposure.events if observed_at - e.created_at <= RECENT_ACCESS]
    if recent:
        factors.append("Accessed the advisory in the 24 hours before the observation.")
    if len(exposure.ip_addresses) > 1:
        factors.append(f"Accessed from {len(exposure.ip_addresses)} different IP addresses.")
    if len(exposure.people) > 3:
        factors.append(f"Read by {len(exposure.people)} people.")
    if prior_violations:
        factors.append(f"{prior_violations} earlier violation(s) on record.")
    if capped_country:
        factors.append("Based in a country whose policy caps access (e.g. a duty to report to the government).")
    if exposure.partner.status != PartnerStatus.ACTIVE:
        factors.append(f"Now {exposure.partner.get_status_display().lower()}.")
    if not exposure.events:
        factors.append("Never opened the advisory before the observation (lower risk).")
    return factors


def leak_incidents() -> QuerySet[LeakIncident]:
    """Every leak investigation with its sample and violation counts, the latest observation first."""
    return (
        LeakIncident.objects.select_related("advisory", "opened_by")
        .annotate(sample_count=Count("samples", distinct=True), violation_count=Count("violations", distinct=True))
        .order_by("-observed_at", "-id")
    )


def indicators_for_incident(*, incident: LeakIncident) -> list[PartnerIndicator]:
    """Indicators the receiving organisations reported for the leaked advisory, earliest sighting first, each marked
    `before_observation` / `before_public_release`: exploitation seen in the wild before the advisory was public is
    evidence for the timeline of a leak."""
    indicators = list(
        PartnerIndicator.objects.filter(advisory_id=incident.advisory_id)
        .select_related("partner")
        .order_by("first_seen", "id")
    )
    for indicator in indicators:
        indicator.before_observation = indicator.first_seen < incident.observed_at
        indicator.before_public_release = indicator.first_seen < incident.advisory.public_release_at
    return indicators
