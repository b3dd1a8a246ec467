"""Writing an advisory before its release: identifiers and CVE ids, description fields, documents, the
program managers assigned to it (need-to-know)."""

import hashlib
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm

from advisories.models import Advisory, AdvisoryCVE, AdvisoryDocument, AdvisoryStatus, WaveStatus
from advisories.need_to_know import is_assigned_manager
from advisories.validators import normalise_cve_ids, score_cvss_vector
from core.levels import AccessLevel
from core.roles import is_program_manager, require_program_manager
from core.services import record_audit_event

# The object permission that assigns a program manager to an advisory (need-to-know before release).
EDIT_ADVISORY = "advisories.edit_advisory"


def next_advisory_identifier(year: int) -> str:
    prefix = f"FWN-{year}-"
    numbers = [
        int(i.removeprefix(prefix))
        for i in Advisory.objects.filter(identifier__startswith=prefix).values_list("identifier", flat=True)
    ]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


def create_advisory(*, actor, title: str, public_release_at: datetime, **fields) -> Advisory:
    """Create a draft advisory with the next free FWN-YYYY-NNNN identifier; its creator is assigned to it (the
    `edit_advisory` object permission). CVE ids are validated and must be new to the program; a CVSS v3.1 vector
    is validated and scored (any score passed in is replaced by the computed one)."""
    require_program_manager(actor)
    fields["cve_ids"] = normalise_cve_ids(fields.get("cve_ids", []))
    fields["cvss_vector"], fields["cvss_score"] = score_cvss_vector(fields.get("cvss_vector", ""))
    for attempt in range(5):
        try:
            with transaction.atomic():
                advisory = Advisory(title=title, public_release_at=public_release_at, **fields)
                advisory.identifier = next_advisory_identifier(timezone.now().year)
                advisory.full_clean(exclude=["status"])
                advisory.save()
                index_cve_ids(advisory=advisory)
                assign_perm(EDIT_ADVISORY, actor, advisory)
                record_audit_event(actor=actor, action="advisory.created", target=advisory)
                return advisory
        except IntegrityError:
            taken = taken_cve_ids(fields["cve_ids"])
            if taken:
                raise ValidationError({"cve_ids": cve_taken_message(taken)}) from None
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def taken_cve_ids(cve_ids: list[str], *, except_advisory: Advisory | None = None) -> dict[str, str]:
    """Which of `cve_ids` another advisory already names: CVE id -> that advisory's identifier."""
    records = AdvisoryCVE.objects.filter(cve_id__in=cve_ids).select_related("advisory")
    if except_advisory is not None:
        records = records.exclude(advisory=except_advisory)
    return {record.cve_id: record.advisory.identifier for record in records}


def cve_taken_message(taken: dict[str, str]) -> str:
    return "Already named by another advisory: " + ", ".join(f"{cve} ({ident})" for cve, ident in taken.items()) + "."


def index_cve_ids(*, advisory: Advisory) -> None:
    """Make the unique CVE index match `advisory.cve_ids` (an IntegrityError when another advisory holds one)."""
    AdvisoryCVE.objects.filter(advisory=advisory).exclude(cve_id__in=advisory.cve_ids).delete()
    held = set(AdvisoryCVE.objects.filter(advisory=advisory).values_list("cve_id", flat=True))
    for cve_id in advisory.cve_ids:
        if cve_id not in held:
            AdvisoryCVE.objects.create(advisory=advisory, cve_id=cve_id)


def require_assigned_manager(actor, advisory: Advisory) -> None:
    """Refuse unless the actor is a program manager assigned to the advisory (need-to-know)."""
    require_program_manager(actor)
    if not is_assigned_manager(actor, advisory):
        raise PermissionDenied("Only the program managers assigned to this advisory may change it.")


def content_is_frozen(advisory: Advisory, level: int) -> bool:
    """Content of `level` is frozen once a wave that carries it (any wave of that level or above) has released, or
    when the advisory is withdrawn: partners hold what they received, and a later change would reach nobody."""
    if advisory.status == AdvisoryStatus.WITHDRAWN:
        return True
    return advisory.waves.filter(status=WaveStatus.RELEASED, level__gte=level).exists()


def update_advisory(
    *,
    actor,
    advisory: Advisory,
    title: str,
    cve_ids,
    affected_products: str,
    cvss_vector: str,
    tlp: str,
    product_identifiers: dict | None = None,
    cwe_id: str | None = None,
    fingerprint_letters: bool | None = None,
) -> Advisory:
    """Change an advisory's description fields before its first release. CVE ids are validated and must not be
    named by another advisory; the CVSS v3.1 vector is validated and re-scored. Product identifiers (CPE, PURL),
    the CWE and the fingerprint's letter layer stay as they are when not given; turning the letter layer on or off
    is audited (it changes what every later copy looks like)."""
    require_assigned_manager(actor, advisory)
    cve_ids = normalise_cve_ids(cve_ids)
    cvss_vector, cvss_score = score_cvss_vector(cvss_vector)
    with transaction.atomic():
        advisory = Advisory.objects.select_for_update().get(pk=advisory.pk)
        if advisory.status not in (AdvisoryStatus.DRAFT, AdvisoryStatus.SCHEDULED):
            raise ValidationError("A released or withdrawn advisory can no longer be edited.")
        taken = taken_cve_ids(cve_ids, except_advisory=advisory)
        if taken:
            raise ValidationError({"cve_ids": cve_taken_message(taken)})
        before = {
            "title": advisory.title,
            "cve_ids": advisory.cve_ids,
            "cvss_vector": advisory.cvss_vector,
            "fingerprint_letters": advisory.fingerprint_letters,
        }
        if fingerprint_letters is not None:
            advisory.fingerprint_letters = fingerprint_letters
        advisory.title, advisory.cve_ids, advisory.affected_products = title, cve_ids, affected_products
        advisory.cvss_vector, advisory.cvss_score, advisory.tlp = cvss_vector, cvss_score, tlp
        if product_identifiers is not None:
            advisory.product_identifiers = product_identifiers
        if cwe_id is not None:
            advisory.cwe_id = cwe_id
        advisory.full_clean(exclude=["status", "identifier"])
        advisory.save()
        try:
            with transaction.atomic():
                index_cve_ids(advisory=advisory)
        except IntegrityError:  # another advisory took one of these CVE ids since the check above
            raise ValidationError(
                {"cve_ids": cve_taken_message(taken_cve_ids(cve_ids, except_advisory=advisory))}
            ) from None
        record_audit_event(actor=actor, action="advisory.updated", target=advisory, details={"before": before})
    return advisory


def save_document(*, actor, advisory: Advisory, level: int, title: str, body_markdown: str) -> AdvisoryDocument:
    """Create or replace the advisory's generic or standard description, until a wave carrying it has released."""
    require_assigned_manager(actor, advisory)
    if level not in (AccessLevel.GENERIC, AccessLevel.STANDARD):
        raise ValidationError({"level": "Descriptions are generic or standard."})
    with transaction.atomic():
        advisory = Advisory.objects.select_for_update().get(pk=advisory.pk)
        if content_is_frozen(advisory, level):
            raise ValidationError("This description has been released (or the advisory withdrawn); it is frozen.")
        document = AdvisoryDocument.objects.filter(advisory=advisory, level=level).first() or AdvisoryDocument(
            advisory=advisory, level=level
        )
        document.title, document.body_markdown = title, body_markdown
        document.full_clean()
        document.save()
        record_audit_event(
            actor=actor,
            action="document.saved",
            target=document,
            details={"sha256": hashlib.sha256(body_markdown.encode()).hexdigest()},
        )
    return document


def assign_advisory_manager(*, actor, advisory: Advisory, manager) -> None:
    """Give another program manager need-to-know access to the advisory (the `edit_advisory` object permission)."""
    require_assigned_manager(actor, advisory)
    if not is_program_manager(manager):
        raise ValidationError({"manager": "Only program managers can be assigned to an advisory."})
    with transaction.atomic():
        assign_perm(EDIT_ADVISORY, manager, advisory)
        record_audit_event(
            actor=actor, action="advisory.manager_assigned", target=advisory, details={"manager": str(manager)}
        )
