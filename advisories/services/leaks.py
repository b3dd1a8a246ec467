"""Leak investigations: incidents, leaked samples traced against the served copies, and the violation opened
against a suspected organisation with its evidence."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from advisories import selectors
from advisories.models import Advisory, LeakIncident, LeakSample
from compliance.models import Violation, ViolationKind, ViolationSeverity
from compliance.services import report_violation
from core.roles import require_compliance_officer
from core.services import record_audit_event
from partners.models import Partner

MAX_SAMPLE_CHARS = 200_000


def open_leak_incident(
    *,
    actor,
    advisory: Advisory,
    observed_at: datetime,
    description: str,
    sample_text: str = "",
    sample_source: str = "",
) -> LeakIncident:
    """Open a leak investigation for an advisory, with the time the leak or exploitation was first observed and,
    optionally, a leaked sample (traced at once). Compliance officers only; refuses an observation in the future."""
    require_compliance_officer(actor)
    if observed_at > timezone.now():
        raise ValidationError({"observed_at": "The observation time cannot be in the future."})
    with transaction.atomic():
        incident = LeakIncident(advisory=advisory, observed_at=observed_at, description=description, opened_by=actor)
        incident.full_clean()
        incident.save()
        record_audit_event(
            actor=actor,
            action="leak.incident_opened",
            target=incident,
            details={"advisory": advisory.identifier, "observed_at": observed_at.isoformat()},
        )
        if sample_text.strip():
            add_leak_sample(actor=actor, incident=incident, text=sample_text, source=sample_source)
    return incident


def add_leak_sample(*, actor, incident: LeakIncident, text: str, source: str = "") -> LeakSample:
    """Attach a leaked text to an investigation and trace it against every served copy of the advisory; the
    result (ranked copies, or "no match") is kept with the sample as evidence. Compliance officers only."""
    require_compliance_officer(actor)
    if not text.strip():
        raise ValidationError({"text": "The sample is empty."})
    if len(text) > MAX_SAMPLE_CHARS:
        raise ValidationError({"text": f"Samples may be at most {MAX_SAMPLE_CHARS} characters."})
    result = selectors.trace_sample(advisory=incident.advisory, text=text)
    with transaction.atomic():
        sample = LeakSample.objects.create(
            incident=incident, text=text, source=source[:300], trace_result=result.as_json(), submitted_by=actor
        )
        match = result.match
        record_audit_event(
            actor=actor,
            action="leak.sample_traced",
            target=incident,
            details={
                "sample": sample.pk,
                "slots": result.slots,
                "candidates": result.candidates,
                "match_delivery": match.delivery.pk if match else None,
                "match_user": match.user.pk if match else None,
                "adjusted_p_value": match.adjusted_p_value if match else None,
            },
        )
    return sample


def open_violation_for_suspect(
    *, actor, incident: LeakIncident, partner: Partner, severity: str = ViolationSeverity.HIGH
) -> Violation:
    """Open a leak violation against an organisation that held the advisory before the observation, with the
    evidence attached: the incident, the organisation's exposure (deliveries, accesses, risk factors) and every
    sample trace that names it. Refuses an organisation that was not exposed."""
    require_compliance_officer(actor)
    exposure = next((e for e in selectors.exposure_report(incident=incident) if e.partner.pk == partner.pk), None)
    if exposure is None:
        raise ValidationError("This organisation did not hold the advisory before the leak was observed.")
    traces = [
        {"sample": sample.pk, "source": sample.source, "match": sample.trace_result["match"]}
        for sample in incident.samples.all()
        if (sample.trace_result or {}).get("match") and sample.trace_result["match"]["partner"] == partner.pk
    ]
    evidence = {
        "leak_incident": incident.pk,
        "advisory": incident.advisory.identifier,
        "observed_at": incident.observed_at.isoformat(),
        "description": incident.description,
        "exposure": {
            "level": exposure.level_label,
            "deliveries": [
                {"id": d.pk, "level": d.get_level_display(), "at": d.delivered_at.isoformat()}
                for d in exposure.deliveries
            ],
            "first_access_at": exposure.first_access.created_at.isoformat() if exposure.first_access else None,
            "people": exposure.people,
            "ip_addresses": exposure.ip_addresses,
            "risk_factors": exposure.risk_factors,
        },
        "fingerprint_traces": traces,
    }
    with transaction.atomic():
        violation = report_violation(
            actor=actor,
            partner=partner,
            kind=ViolationKind.LEAK,
            severity=severity,
            summary=f"Suspected leak of {incident.advisory.identifier} "
            f"(observed {incident.observed_at:%Y-%m-%d %H:%M} UTC)",
            evidence=evidence,
            related_advisories=[incident.advisory.identifier],
        )
        incident.violations.add(violation)
        record_audit_event(
            actor=actor,
            action="leak.violation_opened",
            target=incident,
            details={"violation": violation.pk, "partner": partner.pk},
        )
    return violation
