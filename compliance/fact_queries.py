"""One partner's entitlement facts read in the query that reads the partner (every partner page checks them live):
each kind of fact as a JSON array of rows, aggregated by the database, and the instant they are judged at.
`compliance.entitlements` applies the rule to them."""

import json
from datetime import UTC, datetime

from django.db import models
from django.db.models import F, OuterRef, Q, Subquery, Value
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from compliance.models import Agreement, ContractVersion, EnforcementAction, EnforcementKind, JurisdictionPolicy
from core.clock import embargo_now_expression


class _JSONRows(Subquery):
    """The rows of a `values()` queryset as one JSON array of objects, read as text (NULL when there are none)."""

    template = "(SELECT CAST(JSON_AGG(%(alias)s) AS text) FROM (%(subquery)s) %(alias)s)"
    output_field = models.TextField()

    def __init__(self, queryset, **extra):
        self.keys = list(queryset.query.annotation_select)
        super().__init__(queryset.order_by(), alias="fact_rows", **extra)  # the rule needs no order

    def as_sqlite(self, compiler, connection, **extra_context):
        # The keys are this module's own column aliases, never input.
        pairs = ", ".join(f"'{key}', fact_rows.{connection.ops.quote_name(key)}" for key in self.keys)
        template = "(SELECT NULLIF(JSON_GROUP_ARRAY(JSON_OBJECT(%(pairs)s)), '[]') FROM (%(subquery)s) %(alias)s)"
        return self.as_sql(compiler, connection, template=template, pairs=pairs, **extra_context)


def _instant(at: datetime | None) -> models.Expression:
    """`at`, or now by the embargo clock, inside the query (the database's clock costs no round trip of its own)."""
    return Value(at, output_field=models.DateTimeField()) if at is not None else embargo_now_expression()


def with_entitlement_facts(queryset: models.QuerySet, *, partner: str, at: datetime | None) -> models.QuerySet:
    """`queryset` with the facts of the partner its rows name (`partner`: the path to it, "" for a Partner row)
    and the instant they are judged at, in the same query."""
    prefix = f"{partner}__" if partner else ""
    partner_id = OuterRef(f"{partner}_id" if partner else "pk")
    instant = _instant(at)
    return queryset.annotate(
        entitlement_at=instant,
        entitlement_versions=_JSONRows(
            ContractVersion.objects.filter(effective_at__lte=instant).values(
                contract_key_=F("contract_key"),
                version_=F("version"),
                effective_at_=F("effective_at"),
                required_from_level_=F("required_from_level"),
                previous_versions_valid_until_=F("previous_versions_valid_until"),
            )
        ),
        entitlement_agreements=_JSONRows(
            Agreement.objects.filter(partner_id=partner_id, signed_at__lte=instant, valid_until__gt=instant).values(
                contract_key_=F("contract_version__contract_key"),
                version_=F("contract_version__version"),
                signed_at_=F("signed_at"),
                valid_until_=F("valid_until"),
            )
        ),
        entitlement_policies=_JSONRows(
            JurisdictionPolicy.objects.filter(country=OuterRef(f"{prefix}country"), effective_at__lte=instant).values(
                country_=F("country"), cap_level_=F("cap_level"), effective_at_=F("effective_at")
            )
        ),
        entitlement_actions=_JSONRows(
            EnforcementAction.objects.filter(
                Q(ends_at__isnull=True) | Q(ends_at__gt=instant),
                partner_id=partner_id,
                kind=EnforcementKind.LEVEL_CAP,
                starts_at__lte=instant,
            ).values(kind_=F("kind"), cap_level_=F("cap_level"), starts_at_=F("starts_at"), ends_at_=F("ends_at"))
        ),
    )


def json_rows(text: str | None) -> list[dict]:
    """The rows of a `_JSONRows` column, keys without their trailing underscore and instants as datetimes."""
    rows = []
    for raw in json.loads(text) if text else []:
        row = {}
        for key, value in raw.items():
            name = key.removesuffix("_")
            row[name] = _instant_from_json(value) if name in _INSTANTS else value
        rows.append(row)
    return rows


_INSTANTS = {"effective_at", "previous_versions_valid_until", "signed_at", "valid_until", "starts_at", "ends_at"}


def _instant_from_json(value: str | None) -> datetime | None:
    if value is None:
        return None
    instant = parse_datetime(value)
    # SQLite keeps instants as naive UTC text; PostgreSQL writes them with their offset.
    return instant if timezone.is_aware(instant) else instant.replace(tzinfo=UTC)
