"""Destructive actions ask for confirmation first (core.confirmation): tests that mean to carry one out post this."""

CONFIRMED = {"confirmed": "yes"}
