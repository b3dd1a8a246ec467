"""Access levels, ordered: none < generic < standard < early. Stored as integers so that order is comparison."""

from django.db import models


class AccessLevel(models.IntegerChoices):
    NONE = 0, "none"
    GENERIC = 1, "generic"
    STANDARD = 2, "standard"
    EARLY = 3, "early"


RELEASABLE_LEVELS = (AccessLevel.GENERIC, AccessLevel.STANDARD, AccessLevel.EARLY)

# What an organisation receives at each level, in the partner's words (docs/design.md, "Entitlement").
LEVEL_MEANING = {
    AccessLevel.NONE: "nothing",
    AccessLevel.GENERIC: "the generic written description of every advisory, at its public release",
    AccessLevel.STANDARD: (
        "the generic description, and before the public release the technical description and detection guidance"
    ),
    AccessLevel.EARLY: (
        "everything of the standard level, and at the earliest wave proof-of-concept code and other restricted files"
    ),
}
