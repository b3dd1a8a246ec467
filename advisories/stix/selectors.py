"""What of an advisory's indicators an organisation may read. The advisory itself is read through the entitlement
selectors (advisories.selectors.advisory_for_partner) first; these only narrow within it."""

from django.db.models import Max, QuerySet

from advisories.models import Advisory, Delivery, DetectionIndicator, PartnerIndicator
from compliance.entitlements import PartnerAccess
from core.levels import AccessLevel


def delivered_level(*, access: PartnerAccess, advisory: Advisory) -> AccessLevel:
    """The highest level at which the advisory was delivered to the organisation (none if never)."""
    level = Delivery.objects.filter(partner=access.partner, advisory=advisory).aggregate(level=Max("level"))["level"]
    return AccessLevel(level or AccessLevel.NONE)


def detection_indicators_for_partner(*, access: PartnerAccess, advisory: Advisory) -> QuerySet[DetectionIndicator]:
    """The program's indicators of a level the organisation both received (a delivery of that level or above: a
    later cohort does not see early indicators before its time) and is still entitled to (its live level)."""
    level = min(access.level, delivered_level(access=access, advisory=advisory))
    return DetectionIndicator.objects.filter(advisory=advisory, level__lte=level).order_by("level", "pk")


def reported_indicators_for_partner(*, access: PartnerAccess, advisory: Advisory) -> QuerySet[PartnerIndicator]:
    """The indicators the organisation itself reported for the advisory (never another organisation's)."""
    return PartnerIndicator.objects.filter(advisory=advisory, partner=access.partner).order_by("first_seen", "pk")
