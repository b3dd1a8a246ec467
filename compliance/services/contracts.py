"""Contracts: versions published by the program, and agreements signed by partner admins (or recorded from paper
by the program)."""

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from compliance.models import Agreement, ContractVersion, text_sha256
from core.levels import AccessLevel
from core.roles import require_program_manager
from core.services import record_audit_event
from partners import services as partner_services
from partners.models import MemberRole, PartnerMembership, PartnerStatus
from partners.signals import announce_entitlement_change


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
    """Publish a new, immutable contract version (a change is a new version). Agreements to earlier versions keep
    counting until `previous_versions_valid_until` (the re-sign deadline), or stop when this one takes effect.
    Refuses non-managers, a version number that is not above the latest, an empty text, a deadline before the
    effective time."""
    require_program_manager(actor)
    if not text.strip() or not title.strip():
        raise ValidationError("A contract version needs a title and a text.")
    if validity_days < 1:
        raise ValidationError({"validity_days": "A signature must stay valid for at least one day."})
    if previous_versions_valid_until is not None and previous_versions_valid_until < effective_at:
        raise ValidationError(
            {"previous_versions_valid_until": "The re-sign deadline cannot come before the version takes effect."}
        )
    with transaction.atomic():
        lock_contract(contract_key)
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
        # The first version of a new contract has no row to lock: the unique (contract, version) decides.
        try:
            with transaction.atomic():
                contract_version.save()
        except IntegrityError:
            raise ValidationError({"version": f"Version {version} of this contract was just published."}) from None
        record_audit_event(
            actor=actor,
            action="contract.published",
            target=contract_version,
            details={
                "sha256": contract_version.text_sha256,
                "required_from": AccessLevel(required_from_level).label,
                "effective_at": effective_at,
                "previous_versions_valid_until": previous_versions_valid_until,
            },
        )
    return contract_version


def lock_contract(contract_key: str) -> None:
    """Lock every published version of one contract, oldest first. Publishing a version and signing one take this
    lock, so that a signature is checked against the versions as they are when it is recorded (a version published
    in the meantime is seen, and supersedes). Read the versions after it in a new statement: rows inserted by the
    transaction waited for are not in the locking statement's result."""
    list(ContractVersion.objects.select_for_update().filter(contract_key=contract_key).order_by("version").values("pk"))


def _require_may_sign(*, actor, partner, signed_by) -> None:
    """A program manager may record a signature given on paper; otherwise the signer must be the actor and an
    active admin of the partner organisation (analysts see agreements but cannot sign)."""
    if signed_by is None:
        require_program_manager(actor)
        return
    is_partner_admin = (
        signed_by == actor
        and actor.is_active
        and PartnerMembership.objects.filter(
            user=actor, partner=partner, role=MemberRole.ADMIN, is_active=True
        ).exists()
    )
    if not is_partner_admin:
        raise PermissionDenied("Only your organisation's partner admins can sign agreements.")


def record_agreement(
    *, actor, partner, contract_version: ContractVersion, signer_name: str, signer_title: str, signed_at: datetime,
    signed_by=None, ip_address=None, user_agent: str = "",
) -> Agreement:  # fmt: skip
    """Record a partner's signature of a contract version with its evidence; valid for the version's validity
    days. Refuses anyone but a program manager (a signature given on paper) or the signing partner admin, a
    superseded version, a removed organisation and a missing name or title."""
    _require_may_sign(actor=actor, partner=partner, signed_by=signed_by)
    if not signer_name.strip() or not signer_title.strip():
        raise ValidationError("The signer's full name and job title are required.")
    with transaction.atomic():
        # Every check again under the locks, in the documented order: the organisation, then the contract.
        partner = partner_services.lock_partner(partner.pk)
        _require_may_sign(actor=actor, partner=partner, signed_by=signed_by)
        if partner.status == PartnerStatus.REMOVED:
            raise ValidationError("A removed organisation cannot sign agreements.")
        lock_contract(contract_version.contract_key)
        # Read after the lock, in a statement of its own, so that a version published meanwhile is seen.
        newer = ContractVersion.objects.filter(
            contract_key=contract_version.contract_key,
            version__gt=contract_version.version,
            effective_at__lte=signed_at,
        )
        if newer.exists():
            raise ValidationError("This contract version has been superseded; sign the current one.")
        agreement = Agreement(
            partner=partner,
            contract_version=contract_version,
            signed_by=signed_by,
            signer_name=signer_name.strip(),
            signer_title=signer_title.strip(),
            signed_at=signed_at,
            valid_until=signed_at + timedelta(days=contract_version.validity_days),
            ip_address=ip_address,
            user_agent=(user_agent or "")[:500],
            signed_text_sha256=contract_version.text_sha256,
        )
        agreement.full_clean(exclude=["signed_by"])  # empty when the program records a paper signature
        agreement.save()
        record_audit_event(
            actor=actor,
            action="agreement.recorded" if signed_by is None else "agreement.signed",
            target=agreement,
            details={
                "partner": partner.pk,
                "contract": str(contract_version),
                "sha256": agreement.signed_text_sha256,
                "signer": f"{agreement.signer_name}, {agreement.signer_title}",
                "valid_until": agreement.valid_until,
            },
            ip_address=ip_address,
        )
        # The organisation may be entitled to more from now on (first signature, renewal after expiry): higher
        # layers deliver what became due through the one documented signal. Access itself never waits for this.
        announce_entitlement_change([partner.pk])
    return agreement


def sign_agreement(
    *,
    user,
    contract_version: ContractVersion,
    signer_name: str,
    signer_title: str,
    consent: bool,
    shown_text_sha256: str,
    ip_address=None,
    user_agent: str = "",
) -> Agreement:
    """Click-through signing by a partner admin for their own organisation, now. Refuses analysts and everyone
    else, missing consent, and a signature whose shown text (by its SHA-256) is not exactly the version's text;
    a version not yet in effect, plus everything `record_agreement` refuses (superseded, missing name or title)."""
    membership = PartnerMembership.objects.select_related("partner").filter(user=user, is_active=True).first()
    if membership is None:
        raise PermissionDenied("Only your organisation's partner admins can sign agreements.")
    if not consent:
        raise ValidationError({"consent": "Confirm that you agree to the text, on behalf of your organisation."})
    # The stored hash is checked against the text itself as well, so a tampered row cannot be signed.
    if not (shown_text_sha256 == contract_version.text_sha256 == text_sha256(contract_version.text)):
        raise ValidationError(
            "The text you were shown is not the current text of this version. Reload the page and read it again."
        )
    now = timezone.now()
    if contract_version.effective_at > now:
        raise ValidationError("This contract version is not in effect yet.")
    return record_agreement(
        actor=user,
        partner=membership.partner,
        contract_version=contract_version,
        signer_name=signer_name,
        signer_title=signer_title,
        signed_at=now,
        signed_by=user,
        ip_address=ip_address,
        user_agent=user_agent,
    )
