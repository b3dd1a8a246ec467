"""Access levels, ordered: none < generic < standard < early. Stored as integers so that order is comparison."""

from django.db import models


class AccessLevel(models.IntegerChoices):
    NONE = 0, "none"
    GENERIC = 1, "generic"
    STANDARD = 2, "standard"
    EARLY = 3, "early"


RELEASABLE_LEVELS = (AccessLevel.GENERIC, AccessLevel.STANDARD, AccessLevel.EARLY)
