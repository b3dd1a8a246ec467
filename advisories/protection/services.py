"""Every change to protection statuses, feedback, indicators and reminders: permission-checked, validated, one
transaction, audited."""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Min
from django.utils import timezone
from django_fsm import can_proceed

from advisories.access import released_objects
from advisories.models import (
    PROTECTION_TRANSITIONS,
    Advisory,
    AdvisoryStatus,
    Confidence,
    Delivery,
    FeedbackKind,
    IndicatorType,
    PartnerIndicator,
    ProtectionFeedback,
    ProtectionState,
    ProtectionStatus,
)
from advisories.validators import normalise_indicator
from compliance.entitlements import PartnerAccess
from core.services import record_audit_event

PRODUCTS_MAX_CHARS = 2000
SIGNATURE_IDS_MAX_CHARS = 5000
NOTES_MAX_CHARS = 5000
FEEDBACK_MAX_CHARS = 5000
COMMENT_MAX_CHARS = 2000


def require_received(*, access: PartnerAccess | None, advisory: Advisory) -> None:
    """Refuse unless the organisation received the advisory and may still see it (the entitlement rule, through
    `released_objects`); a withdrawn advisory takes no more reports."""
    queryset = Advisory.objects.filter(pk=advisory.pk).exclude(status=AdvisoryStatus.WITHDRAWN)
    if access is None or not released_objects(queryset, access).exists():
        raise PermissionDenied("Only organisations that received this advisory may report on it.")


def _token_details(access: PartnerAccess) -> dict:
    return {"api_token": access.api_token.prefix} if access.api_token is not None else {}


def _check_length(errors: dict, field: str, value: str, limit: int) -> None:
    if len(value) > limit:
        errors[field] = f"At most {limit} characters."


def _validated_report_texts(*, state: str, products: str, signature_ids: str, notes: str) -> tuple[str, str, str]:
    """The report's products, signature ids and notes stripped; refuses an unknown state and texts too long."""
    products, signature_ids, notes = (products or "").strip(), (signature_ids or "").strip(), (notes or "").strip()
    errors: dict[str, str] = {}
    _check_length(errors, "products", products, PRODUCTS_MAX_CHARS)
    _check_length(errors, "signature_ids", signature_ids, SIGNATURE_IDS_MAX_CHARS)
    _check_length(errors, "notes", notes, NOTES_MAX_CHARS)
    if state not in ProtectionState.values:
        errors["state"] = "Unknown state."
    if errors:
        raise ValidationError(errors)
    return products, signature_ids, notes


def _status_fields(status: ProtectionStatus) -> dict:
    """The reported fields of a status, to tell whether a report changed anything."""
    return {
        "state": status.state,
        "products": status.products,
        "signature_ids": status.signature_ids,
        "shipped_at": status.shipped_at,
        "notes": status.notes,
    }


def _move_to_state(status: ProtectionStatus, state: str) -> None:
    """Move the status to `state` through the state machine; refuses a transition it does not allow."""
    if state == status.state:
        return
    transition = getattr(status, PROTECTION_TRANSITIONS.get(state, ""), None)
    if transition is None or not can_proceed(transition):
        raise ValidationError(
            {
                "state": f"A protection status cannot go from “{status.get_state_display()}” to "
                f"“{ProtectionState(state).label}”."
            }
        )
    transition()


def _set_shipped_at(
    status: ProtectionStatus,
    *,
    before: dict,
    shipped_at: datetime | None,
    carries_protection: bool,
    now: datetime,
    access: PartnerAccess,
    advisory: Advisory,
) -> None:
    """Fix the shipped time when the status becomes shipped (default now); refuse changing it once reported (`before`
    holds the status's fields before the report), a shipped status that names no product or signature, and a shipped
    time on a status that is not shipped."""
    if status.state != ProtectionState.SHIPPED:
        if shipped_at is not None:
            raise ValidationError({"shipped_at": "Only a shipped protection has a shipped time."})
        return
    if before["state"] == ProtectionState.SHIPPED:
        if shipped_at is not None and shipped_at != before["shipped_at"]:
            raise ValidationError({"shipped_at": "The shipped time is fixed once reported."})
    else:
        status.shipped_at = _validated_shipped_at(
            shipped_at=shipped_at or now, now=now, access=access, advisory=advisory
        )
    if not carries_protection:
        raise ValidationError(
            {"products": "Name the product(s) and version, or the signature ids, that carry the protection."}
        )


def report_protection_status(
    *,
    access: PartnerAccess,
    advisory: Advisory,
    state: str,
    products: str = "",
    signature_ids: str = "",
    shipped_at: datetime | None = None,
    notes: str = "",
    ip_address=None,
) -> ProtectionStatus:
    """Record the organisation's protection status for the advisory: move it to `state` through the state machine
    (ProtectionStatus lists the transitions) and store the products, signature ids and notes. Shipping needs the
    products or signature ids and a shipped time (default now) that is neither in the future nor before the
    organisation first received the advisory; the shipped time is fixed once reported. Refuses organisations
    that did not receive the advisory (PermissionDenied) and any other transition (ValidationError). Audited
    when something changed."""
    require_received(access=access, advisory=advisory)
    products, signature_ids, notes = _validated_report_texts(
        state=state, products=products, signature_ids=signature_ids, notes=notes
    )
    now = timezone.now()
    with transaction.atomic():
        status, _ = ProtectionStatus.objects.select_for_update().get_or_create(
            advisory=advisory, partner=access.partner
        )
        before = _status_fields(status)
        _move_to_state(status, state)
        _set_shipped_at(
            status,
            before=before,
            shipped_at=shipped_at,
            carries_protection=bool(products or signature_ids),
            now=now,
            access=access,
            advisory=advisory,
        )
        status.products, status.signature_ids, status.notes = products, signature_ids, notes
        after = _status_fields(status)
        if after == before and status.updated_by_id is not None:
            return status
        status.updated_by = access.user
        status.full_clean(exclude=["state", "advisory", "partner", "updated_by"])
        status.save()
        record_audit_event(
            actor=access.user,
            action="protection.status_reported",
            target=status,
            details={
                "advisory": advisory.identifier,
                "partner": access.partner.pk,
                "from": before["state"],
                "to": status.state,
                "changed": sorted(name for name in after if after[name] != before[name]),
                "shipped_at": status.shipped_at,
                **_token_details(access),
            },
            ip_address=ip_address,
        )
    return status


def _validated_shipped_at(*, shipped_at: datetime, now: datetime, access: PartnerAccess, advisory: Advisory):
    if shipped_at > now:
        raise ValidationError({"shipped_at": "The shipped time cannot be in the future."})
    first_delivery = Delivery.objects.filter(advisory=advisory, partner=access.partner).aggregate(
        first=Min("delivered_at")
    )["first"]
    if first_delivery is not None and shipped_at < first_delivery:
        raise ValidationError(
            {
                "shipped_at": "The shipped time cannot be before your organisation received the advisory "
                f"({first_delivery:%Y-%m-%d %H:%M} UTC)."
            }
        )
    return shipped_at


def submit_protection_feedback(
    *, access: PartnerAccess, advisory: Advisory, kind: str, text: str, ip_address=None
) -> ProtectionFeedback:
    """Feedback to the program about the advisory's detection content (false positives, detection quality,
    questions). Refuses organisations that did not receive the advisory, an unknown kind and an empty text."""
    require_received(access=access, advisory=advisory)
    text = (text or "").strip()
    errors = {}
    if kind not in FeedbackKind.values:
        errors["feedback_kind"] = "Choose what the feedback is about."
    if not text:
        errors["feedback_text"] = "Write the feedback."
    elif len(text) > FEEDBACK_MAX_CHARS:
        errors["feedback_text"] = f"At most {FEEDBACK_MAX_CHARS} characters."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        feedback = ProtectionFeedback.objects.create(
            advisory=advisory, partner=access.partner, submitted_by=access.user, kind=kind, text=text
        )
        record_audit_event(
            actor=access.user,
            action="protection.feedback_submitted",
            target=feedback,
            details={
                "advisory": advisory.identifier,
                "partner": access.partner.pk,
                "kind": kind,
                **_token_details(access),
            },
            ip_address=ip_address,
        )
    return feedback


def _validated_indicator(
    *, indicator_type: str, value: str, first_seen: datetime, confidence: str, comment: str
) -> tuple[str, str]:
    """The indicator's value normalised for its type and its comment stripped; refuses an unknown type or
    confidence, an invalid value, a first-seen time without a time zone or in the future and a long comment."""
    errors: dict[str, object] = {}
    if indicator_type not in IndicatorType.values:
        errors["indicator_type"] = "Unknown indicator type."
    else:
        try:
            value = normalise_indicator(indicator_type, value)
        except ValidationError as error:
            errors["value"] = error.messages
    if confidence not in Confidence.values:
        errors["confidence"] = "Choose low, medium or high."
    if first_seen is None or timezone.is_naive(first_seen):
        errors["first_seen"] = "Give when it was first seen, with its time zone (UTC)."
    elif first_seen > timezone.now():
        errors["first_seen"] = "The first-seen time cannot be in the future."
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX_CHARS:
        errors["comment"] = f"At most {COMMENT_MAX_CHARS} characters."
    if errors:
        raise ValidationError(errors)
    return value, comment


def submit_partner_indicator(
    *,
    access: PartnerAccess,
    advisory: Advisory,
    indicator_type: str,
    value: str,
    first_seen: datetime,
    confidence: str,
    comment: str = "",
    ip_address=None,
) -> PartnerIndicator:
    """Attach an indicator the organisation observed in the wild to the advisory. The value is validated for its
    type and stored normalised; refuses a first-seen time in the future, an unknown type or confidence, a value
    the organisation already reported for the advisory, and organisations that did not receive it."""
    require_received(access=access, advisory=advisory)
    value, comment = _validated_indicator(
        indicator_type=indicator_type, value=value, first_seen=first_seen, confidence=confidence, comment=comment
    )
    try:
        with transaction.atomic():
            indicator = PartnerIndicator.objects.create(
                advisory=advisory,
                partner=access.partner,
                submitted_by=access.user,
                api_token=access.api_token,
                indicator_type=indicator_type,
                value=value,
                first_seen=first_seen,
                confidence=confidence,
                comment=comment,
            )
            record_audit_event(
                actor=access.user,
                action="protection.indicator_submitted",
                target=indicator,
                details={
                    "advisory": advisory.identifier,
                    "partner": access.partner.pk,
                    "type": indicator_type,
                    "first_seen": first_seen,
                    "before_public_release": first_seen < advisory.public_release_at,
                    **_token_details(access),
                },
                ip_address=ip_address,
            )
    except IntegrityError as error:
        raise ValidationError(
            {"value": "Your organisation already reported this indicator for this advisory."}
        ) from error
    return indicator
