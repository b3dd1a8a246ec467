"""Vetting of partner applications: the risk flags a reviewer sees, and approval capped by the entitlement rule.

The application's state machine and its other services live in `partners.services`; approval passes through here
because the highest level a new partner may be assigned depends on the jurisdiction policy, which this layer owns.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from compliance.entitlements import jurisdiction_cap
from compliance.models import JurisdictionPolicy
from core.levels import AccessLevel
from partners import services as partner_services
from partners.models import ApplicationStatus, Partner, PartnerApplication, PartnerStatus


@dataclass(frozen=True)
class RiskFlag:
    code: str
    message: str


def approval_level_cap(*, country: str, at: datetime | None = None) -> AccessLevel:
    """The highest level a partner in `country` can reach under the jurisdiction policy in force at `at`."""
    at = at or timezone.now()
    policies = JurisdictionPolicy.objects.filter(country=country, effective_at__lte=at)
    return jurisdiction_cap(policies=policies, country=country, at=at)


def application_risk_flags(application: PartnerApplication, at: datetime | None = None) -> list[RiskFlag]:
    """Facts a reviewer must weigh, computed from what is stored: the country's jurisdiction cap, declared
    government affiliations and reporting duty, and earlier rejected applications or removed partners with the
    same legal name or email domains."""
    at = at or timezone.now()
    flags = []
    cap = approval_level_cap(country=application.country, at=at)
    if cap < AccessLevel.EARLY:
        flags.append(
            RiskFlag(
                "jurisdiction",
                f"A jurisdiction policy caps partners in {application.country.name} at {cap.label}.",
            )
        )
    if application.government_affiliations.strip():
        flags.append(RiskFlag("government_affiliation", "The applicant declares government affiliations."))
    if application.reporting_duty:
        flags.append(RiskFlag("reporting_duty", "The applicant has a legal duty to report vulnerabilities."))
    domains = set(application.email_domains)
    rejected = PartnerApplication.objects.filter(status=ApplicationStatus.REJECTED).exclude(pk=application.pk)
    for other in rejected.only("legal_name", "email_domains", "decided_at"):
        if other.legal_name.lower() == application.legal_name.lower() or domains & set(other.email_domains):
            when = f"{other.decided_at:%Y-%m-%d}" if other.decided_at else "earlier"
            flags.append(RiskFlag("previously_rejected", f"An application of {other.legal_name} was rejected {when}."))
    removed = Partner.objects.filter(
        Q(legal_name__iexact=application.legal_name) | Q(domains__domain__in=domains), status=PartnerStatus.REMOVED
    ).distinct()
    for partner in removed:
        flags.append(RiskFlag("previously_removed", f"{partner.legal_name} was removed from the program."))
    return flags


def approve_application(*, application: PartnerApplication, actor, assigned_level: int) -> Partner:
    """Approve an application at `assigned_level`, refused above the cap the entitlement rule puts on the
    applicant's country (see `partners.services.approve_application` for the rest)."""
    return partner_services.approve_application(
        application=application,
        actor=actor,
        assigned_level=assigned_level,
        max_level=approval_level_cap(country=application.country),
    )
