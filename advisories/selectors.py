import math
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Prefetch, Q, QuerySet

from advisories.fingerprinting import DEFAULT_THRESHOLD, copy_key, rank
from advisories.models import (
    Advisory,
    AdvisoryDocument,
    Artifact,
    Delivery,
    DownloadEvent,
    LeakIncident,
    ReleaseCohort,
)
from compliance.entitlements import PartnerAccess, get_released_object_or_404, released_objects
from compliance.models import JurisdictionPolicy, Violation, ViolationStatus
from core.levels import AccessLevel
from partners.models import Partner, PartnerStatus


def advisories_for_partner(*, access: PartnerAccess | None, search: str = "") -> QuerySet[Advisory]:
    """The advisories released to the organisation that it is still entitled to, most recently delivered first."""
    queryset = released_objects(Advisory.objects.all(), access)
    if access is None:
        return queryset
    search = search.strip()
    if search:
        queryset = queryset.filter(
            Q(identifier__icontains=search) | Q(title__icontains=search) | Q(cve_ids__icontains=search)
        )
    return queryset.annotate(
        delivered_at=Max("deliveries__delivered_at", filter=Q(deliveries__partner_id=access.partner.pk))
    ).order_by("-delivered_at", "-id")


def advisory_for_partner(*, access: PartnerAccess | None, identifier: str) -> Advisory:
    """One advisory with the documents and artifacts the organisation may see; 404 for anything else."""
    return get_released_object_or_404(
        Advisory.objects.prefetch_related(
            Prefetch("documents", queryset=released_objects(AdvisoryDocument.objects.all(), access)),
            Prefetch("artifacts", queryset=released_objects(Artifact.objects.all(), access)),
        ),
        access,
        identifier=identifier,
    )


def artifact_for_partner(*, access: PartnerAccess | None, identifier: str, artifact_id: int) -> Artifact:
    return get_released_object_or_404(
        Artifact.objects.select_related("advisory"), access, advisory__identifier=identifier, pk=artifact_id
    )


def latest_delivery(*, access: PartnerAccess, advisory: Advisory) -> Delivery | None:
    """The organisation's highest-level delivery of the advisory: the one its banner and fingerprint name."""
    return (
        Delivery.objects.filter(partner=access.partner, advisory=advisory).order_by("-level", "-delivered_at").first()
    )


# Leak investigations ---------------------------------------------------------------------------------------------


@dataclass
class TracedCopy:
    """One served copy (a delivery read by one person) and how well a sample matches its fingerprint."""

    delivery: Delivery
    user: object
    agreements: int
    slots: int
    p_value: float
    adjusted_p_value: float

    @property
    def confidence(self) -> float:
        """The chance, in percent, that this is not a false match (1 - Bonferroni-adjusted p-value)."""
        return 100.0 * (1.0 - self.adjusted_p_value)

    @property
    def evidence_bits(self) -> float:
        """-log2 of the adjusted p-value: how many coin flips' worth of evidence the match carries."""
        return -math.log2(self.adjusted_p_value) if self.adjusted_p_value > 0 else math.inf


@dataclass
class TraceResult:
    slots: int
    threshold: float
    candidates: int
    ranked: list[TracedCopy]

    @property
    def match(self) -> TracedCopy | None:
        """The best copy when its evidence clears the threshold; None is "no match": nobody is accused."""
        best = self.ranked[0] if self.ranked else None
        return best if best is not None and best.adjusted_p_value < self.threshold else None

    def as_json(self, *, top: int = 10) -> dict:
        def row(copy: TracedCopy) -> dict:
            return {
                "delivery": copy.delivery.pk,
                "partner": copy.delivery.partner_id,
                "partner_name": str(copy.delivery.partner),
                "level": AccessLevel(copy.delivery.level).label,
                "user": copy.user.pk,
                "user_email": copy.user.email,
                "agreements": copy.agreements,
                "slots": copy.slots,
                "p_value": copy.p_value,
                "adjusted_p_value": copy.adjusted_p_value,
            }

        return {
            "slots": self.slots,
            "threshold": self.threshold,
            "candidates": self.candidates,
            "match": row(self.match) if self.match else None,
            "ranked": [row(copy) for copy in self.ranked[:top]],
        }


def served_copies(*, advisory: Advisory) -> list[tuple[Delivery, object]]:
    """Every (delivery, person) pair that was served a fingerprinted copy of the advisory: the trace candidates."""
    pairs = (
        DownloadEvent.objects.filter(advisory=advisory, delivery__isnull=False)
        .values_list("delivery_id", "user_id")
        .distinct()
    )
    pairs = list(pairs)
    deliveries = Delivery.objects.select_related("partner").in_bulk({d for d, _ in pairs})
    users = get_user_model().objects.in_bulk({u for _, u in pairs})
    return [(deliveries[d], users[u]) for d, u in sorted(pairs)]


def trace_sample(*, advisory: Advisory, text: str, threshold: float = DEFAULT_THRESHOLD) -> TraceResult:
    """Rank every copy of the advisory served to a partner user by how well `text` carries its fingerprint."""
    copies = served_copies(advisory=advisory)
    candidates = {
        index: copy_key(token=delivery.fingerprint_token, user_id=user.pk)
        for index, (delivery, user) in enumerate(copies)
    }
    ranking = rank(text, candidates, threshold=threshold)
    ranked = [
        TracedCopy(
            delivery=copies[score.label][0],
            user=copies[score.label][1],
            agreements=score.agreements,
            slots=score.slots,
            p_value=score.p_value,
            adjusted_p_value=score.adjusted_p_value,
        )
        for score in ranking.scores
    ]
    return TraceResult(slots=ranking.slots, threshold=threshold, candidates=len(copies), ranked=ranked)


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
