"""The one delivery path's rule: who is due which wave at an instant (docs/architecture.md, "Release and the one
delivery path"). `advisories.fanout` inserts from the same statement."""

import json
from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from advisories.models import (
    Advisory,
    AdvisoryStatus,
    Delivery,
    ReleaseCohort,
    ReleaseWave,
    WaveStatus,
)
from compliance.entitlements import effective_levels
from core.levels import AccessLevel
from partners.models import Partner, PartnerStatus


@dataclass(frozen=True)
class DueDelivery:
    """One wave due to one partner at an instant, through `cohort` when the partner is in a cohort of that wave.
    `public_archive`: the generic wave of an advisory already public before that instant (delivered silently)."""

    partner_id: int
    wave: ReleaseWave
    cohort: ReleaseCohort | None = None
    public_archive: bool = False


# Lists enter the due rule's SQL as one JSON parameter whatever their length (SQLite caps the number of
# parameters): the rows of a JSON array (column `value`) or object (`key`, `value`), in each backend's words.
JSON_ARRAY_ROWS = {
    "postgresql": "json_array_elements_text(CAST(%({name})s AS json))",
    "sqlite": "json_each(%({name})s)",
}
JSON_OBJECT_ROWS = {"postgresql": "json_each_text(CAST(%({name})s AS json))", "sqlite": "json_each(%({name})s)"}


def json_ids_sql(name: str) -> str:
    """A subquery of the ids in the JSON array passed as the named parameter `name`."""
    rows = JSON_ARRAY_ROWS[connection.vendor].format(name=name)
    return f"SELECT CAST(value AS BIGINT) FROM {rows}"  # noqa: S608 - SQL of the code, the ids a parameter  # nosec B608


@dataclass(frozen=True)
class DueDeliveriesSQL:
    """The due rule as one SELECT of `(partner_id, wave_id, advisory_id, level, cohort_id, public_archive)` with
    its named parameters: read by `due_deliveries`, inserted from by `advisories.fanout`."""

    sql: str
    params: dict


# Table names and the narrowing come from the code, never from input: every value is a parameter.
_DUE_RULE_SQL = """
    WITH entitled (partner_id, level) AS (
        SELECT CAST(key AS BIGINT), CAST(value AS INTEGER) FROM {levels_rows}
    ),
    released AS (
        SELECT w.id, w.advisory_id, w.level, a.status = %(public)s AND w.released_at < %(at)s AS public_archive
        FROM {wave} w JOIN {advisory} a ON a.id = w.advisory_id
        WHERE w.status = %(released)s AND w.released_at <= %(at)s
          AND (a.status = %(under_embargo)s OR (a.status = %(public)s AND w.level = %(generic)s)){narrowed}
    ),
    candidates AS (
        SELECT e.partner_id, r.id AS wave_id, r.advisory_id, r.level, c.id AS cohort_id, r.public_archive
        FROM released r
        JOIN entitled e ON e.level >= r.level
        LEFT JOIN ({cohort_partner} cp
                   JOIN {cohort} c ON c.id = cp.releasecohort_id)
          ON c.wave_id = r.id AND cp.partner_id = e.partner_id
        WHERE (c.id IS NULL OR c.scheduled_at <= %(at)s)
          AND NOT EXISTS (
              SELECT 1 FROM {delivery} d
              WHERE d.partner_id = e.partner_id AND d.advisory_id = r.advisory_id AND d.level >= r.level)
    ),
    ranked AS (
        SELECT candidates.*, MAX(level) OVER (PARTITION BY partner_id, advisory_id) AS highest FROM candidates
    )
    SELECT partner_id, wave_id, advisory_id, level, cohort_id, public_archive FROM ranked WHERE level = highest
    """  # noqa: S608


def _narrowing(*, advisory_ids: list[int] | None, wave_ids: list[int] | None) -> tuple[str, dict]:
    """The due rule's optional narrowing to some advisories or waves: SQL for its `released` step, and parameters."""
    narrowed, params = "", {}
    if advisory_ids is not None:
        narrowed += f" AND w.advisory_id IN ({json_ids_sql('advisory_ids')})"
        params["advisory_ids"] = json.dumps(list(advisory_ids))
    if wave_ids is not None:
        narrowed += f" AND w.id IN ({json_ids_sql('wave_ids')})"
        params["wave_ids"] = json.dumps(list(wave_ids))
    return narrowed, params


def _due_rule_tables() -> dict[str, str]:
    sources = {
        "advisory": Advisory,
        "cohort": ReleaseCohort,
        "cohort_partner": ReleaseCohort.partners.through,
        "delivery": Delivery,
        "wave": ReleaseWave,
    }
    return {name: connection.ops.quote_name(model._meta.db_table) for name, model in sources.items()}


def due_deliveries_sql(
    *,
    at: datetime,
    partner_ids: list[int] | None = None,
    advisory_ids: list[int] | None = None,
    wave_ids: list[int] | None = None,
) -> DueDeliveriesSQL | None:
    """The rule of `due_deliveries` (see there) as SQL, or None when no partner is entitled to anything at `at`.
    The partners' effective levels come from the entitlement rule (`effective_levels`, five queries whatever their
    number) and enter the statement as one JSON parameter; everything else is decided by the database: a partner's
    candidate waves are those its level reaches, not held at their level or above and, when it is in a cohort of the
    wave, whose cohort time has come; of these it is due the highest (the same as taking the highest wave it may
    have and skipping it when already held at that level, as a lower one is then held too). A partner is in at most
    one cohort of a wave (`validate_release_cohort`)."""
    partners = Partner.objects.filter(status=PartnerStatus.ACTIVE)
    if partner_ids is not None:
        partners = partners.filter(pk__in=partner_ids)
    levels = {pk: int(level) for pk, level in effective_levels(partners, at).items() if level >= AccessLevel.GENERIC}
    if not levels:
        return None
    params = {
        "levels": json.dumps(levels),
        "at": connection.ops.adapt_datetimefield_value(at),
        "released": WaveStatus.RELEASED,
        "under_embargo": AdvisoryStatus.RELEASED,
        "public": AdvisoryStatus.PUBLIC,
        "generic": int(AccessLevel.GENERIC),
    }
    narrowed, narrowing_params = _narrowing(advisory_ids=advisory_ids, wave_ids=wave_ids)
    params.update(narrowing_params)
    levels_rows = JSON_OBJECT_ROWS[connection.vendor].format(name="levels")
    sql = _DUE_RULE_SQL.format(levels_rows=levels_rows, narrowed=narrowed, **_due_rule_tables())
    return DueDeliveriesSQL(sql=sql, params=params)


def due_deliveries(
    *,
    at: datetime,
    partner_ids: list[int] | None = None,
    advisory_ids: list[int] | None = None,
    wave_ids: list[int] | None = None,
) -> list[DueDelivery]:
    """Who is due what at `at`: the one rule every delivery follows (release, cohorts, catch-up after an
    entitlement change, reconciliation). A partner is due the highest released wave (released at or before `at`)
    of an advisory under embargo that its effective level at `at` reaches, and whose cohort time (if it is in a
    cohort of that wave) has come; for a public advisory, the generic wave (the public archive). Nothing the
    partner already holds at that level or above; never a withdrawn or unreleased advisory. Optionally narrowed to
    some partners, advisories or waves. The rule is one SQL statement (`due_deliveries_sql`), which the release's
    fan-out inserts from directly (`advisories.fanout`); here its rows are read, by advisory and partner. A fixed
    number of queries whatever the number of partners."""
    query = due_deliveries_sql(at=at, partner_ids=partner_ids, advisory_ids=advisory_ids, wave_ids=wave_ids)
    if query is None:
        return []
    with connection.cursor() as cursor:
        cursor.execute(query.sql, query.params)
        rows = sorted(cursor.fetchall(), key=lambda row: (row[2], row[0]))
    waves = ReleaseWave.objects.select_related("advisory").in_bulk({row[1] for row in rows})
    cohorts = ReleaseCohort.objects.in_bulk({row[4] for row in rows if row[4] is not None})
    return [
        DueDelivery(
            partner_id=partner_id,
            wave=waves[wave_id],
            cohort=cohorts.get(cohort_id),
            public_archive=bool(public_archive),
        )
        for partner_id, wave_id, _advisory_id, _level, cohort_id, public_archive in rows
    ]
