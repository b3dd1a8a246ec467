"""The program's detection indicators: added by an advisory's assigned managers until a wave carrying their
level has released (the same freeze as files)."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from advisories.models import Advisory, DetectionIndicator, IndicatorType
from advisories.services import content_is_frozen, require_assigned_manager
from advisories.stix.bundle import STIX_INDICATOR_TYPES
from advisories.validators import normalise_indicator
from core.levels import AccessLevel
from core.services import record_audit_event


def add_detection_indicator(
    *, actor, advisory: Advisory, level: int, indicator_type: str, value: str, description: str = ""
) -> DetectionIndicator:
    """Publish an indicator with the advisory for partners of `level` (standard or early). The value is validated
    and normalised for its type; refused once that level has released, or when the advisory already has it."""
    require_assigned_manager(actor, advisory)
    if level not in (AccessLevel.STANDARD, AccessLevel.EARLY):
        raise ValidationError({"level": "Detection indicators are standard or early."})
    if indicator_type not in STIX_INDICATOR_TYPES:
        labels = ", ".join(IndicatorType(kind).label for kind in STIX_INDICATOR_TYPES)
        raise ValidationError({"indicator_type": f"Detection indicators are one of: {labels}."})
    value = normalise_indicator(indicator_type, value)
    with transaction.atomic():
        advisory = Advisory.objects.select_for_update().get(pk=advisory.pk)
        if content_is_frozen(advisory, level):
            raise ValidationError("Indicators of this level have been released (or the advisory withdrawn).")
        indicator = DetectionIndicator(
            advisory=advisory,
            level=level,
            indicator_type=indicator_type,
            value=value,
            description=description.strip(),
            created_by=actor,
        )
        indicator.full_clean()
        try:
            with transaction.atomic():
                indicator.save()
        except IntegrityError:
            raise ValidationError({"value": "The advisory already has this indicator."}) from None
        record_audit_event(
            actor=actor,
            action="detection_indicator.added",
            target=advisory,
            details={"level": AccessLevel(level).label, "type": indicator_type, "value": value},
        )
    return indicator
