from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from compliance.models import Agreement, ContractVersion, JurisdictionPolicy, Violation
from core.levels import AccessLevel
from core.roles import require_compliance_officer, require_program_manager
from core.services import record_audit_event


def publish_contract_version(
    *,
    actor,
    contract_key: str,
    title: str,
    version: int,
    text: str,
    effective_at: datetime,
    required_from_level: int,
    validity_days: int = 365,
    previous_versions_valid_until: datetime | None = None,
) -> ContractVersion:
    """Publish a new, immutable contract version. Refuses a version number that is not above the current one."""
    require_program_manager(actor)
    with transaction.atomic():
        latest = ContractVersion.objects.filter(contract_key=contract_key).order_by("-version").first()
        if latest is not None and version <= latest.version:
            raise ValidationError({"version": f"Version must be above {latest.version}."})
        contract_version = ContractVersion(
            contract_key=contract_key,
            title=title,
            version=version,
            text=text,
            effective_at=effective_at,
            required_from_level=required_from_level,
            validity_days=validity_days,
            previous_versions_valid_until=previous_versions_valid_until,
        )
        contract_version.full_clean(exclude=["text_sha256"])
        contract_version.save()
        record_audit_event(
            actor=actor,
            action="contract.published",
            target=contract_version,
            details={"sha256": contract_version.text_sha256, "required_from": AccessLevel(required_from_level).label},
        )
    return contract_version


def record_agreement(
    *, actor, partner, contract_version: ContractVersion, signer_name: str, signer_title: str, signed_at: datetime,
    signed_by=None, ip_address=None, user_agent: str = "",
) -> Agreement:  # fmt: skip
    """Record a partner's signature of a contract version (the click-through signing flow builds on this).
    Refuses a superseded version."""
    if signed_by is None:
        require_program_manager(actor)
    newer = ContractVersion.objects.filter(
        contract_key=contract_version.contract_key, version__gt=contract_version.version, effective_at__lte=signed_at
    )
    if newer.exists():
        raise ValidationError("This contract version has been superseded; sign the current one.")
    if not signer_name.strip() or not signer_title.strip():
        raise ValidationError("The signer's full name and job title are required.")
    with transaction.atomic():
        agreement = Agreement.objects.create(
            partner=partner,
            contract_version=contract_version,
            signed_by=signed_by,
            signer_name=signer_name.strip(),
            signer_title=signer_title.strip(),
            signed_at=signed_at,
            valid_until=signed_at + timedelta(days=contract_version.validity_days),
            ip_address=ip_address,
            user_agent=user_agent[:500],
            signed_text_sha256=contract_version.text_sha256,
        )
        record_audit_event(
            actor=actor,
            action="agreement.recorded",
            target=agreement,
            details={"partner": partner.pk, "contract": str(contract_version), "valid_until": agreement.valid_until},
        )
    return agreement


def set_jurisdiction_policy(
    *, actor, country: str, cap_level: int, effective_at: datetime, reason: str
) -> JurisdictionPolicy:
    """Add a versioned country cap, in force from `effective_at`. A written reason is required."""
    require_program_manager(actor)
    if not reason.strip():
        raise ValidationError({"reason": "A written reason is required."})
    with transaction.atomic():
        policy = JurisdictionPolicy(
            country=country, cap_level=cap_level, effective_at=effective_at, reason=reason.strip(), created_by=actor
        )
        policy.full_clean()
        policy.save()
        record_audit_event(
            actor=actor,
            action="jurisdiction_policy.set",
            target=policy,
            details={"country": str(country), "cap": AccessLevel(cap_level).label, "effective_at": effective_at},
        )
    return policy


def report_violation(
    *, actor, partner, kind: str, severity: str, summary: str, evidence: dict | None = None,
    related_advisories: list[str] | None = None,
) -> Violation:  # fmt: skip
    """Record a suspected violation by a partner (status `reported`) with its evidence. Compliance officers only."""
    require_compliance_officer(actor)
    with transaction.atomic():
        violation = Violation(
            partner=partner,
            kind=kind,
            severity=severity,
            summary=summary,
            evidence=evidence or {},
            related_advisories=related_advisories or [],
            reported_by=actor,
        )
        violation.full_clean(exclude=["status"])
        violation.save()
        record_audit_event(
            actor=actor,
            action="violation.reported",
            target=violation,
            details={
                "partner": partner.pk,
                "kind": kind,
                "severity": severity,
                "advisories": violation.related_advisories,
            },
        )
    return violation
