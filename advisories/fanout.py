"""The writes of the one delivery path, set-based: what `selectors.due_deliveries_sql` says is due is inserted by
the database itself (`INSERT ... SELECT`), with the object permissions of the partners' Groups, in a fixed number of
statements whatever the number of partners (docs/architecture.md, "Release and the one delivery path").

Only `services.deliver_due_waves` calls `insert_due_deliveries`, inside its transaction and after locking the
advisories concerned: it stays the only writer of deliveries, and records the audit event and queues the notices.
The statements are the same on PostgreSQL and SQLite (the development portal) but for two functions: the rows
of a JSON parameter (`selectors.JSON_ARRAY_ROWS`) and the random token.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from guardian.utils import get_group_obj_perms_model

from advisories import selectors
from advisories.access import release_permission_codename
from advisories.models import Advisory, AdvisoryDocument, Artifact, Delivery
from partners.models import Partner

# A secret fingerprint token per delivery, 64 hex digits, from each database's strong random source (PostgreSQL's
# gen_random_uuid: 2 x 122 random bits, hashed; SQLite's randomblob, seeded by the operating system).
RANDOM_TOKEN = {
    "postgresql": "encode(sha256(CAST(CAST(gen_random_uuid() AS text) || CAST(gen_random_uuid() AS text) AS bytea)), "
    "'hex')",
    "sqlite": "lower(hex(randomblob(32)))",
}


@dataclass(frozen=True)
class Delivered:
    """What one call delivered: the new delivery ids (ascending), those to announce (not the silent public
    archive), and the counts the `deliveries.created` audit event records."""

    delivery_ids: list[int] = field(default_factory=list)
    announced: list[int] = field(default_factory=list)
    public_archive: int = 0
    partners: int = 0
    advisories: list[str] = field(default_factory=list)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def insert_due_deliveries(
    *,
    at: datetime,
    partner_ids: list[int] | None = None,
    advisory_ids: list[int] | None = None,
    wave_ids: list[int] | None = None,
) -> Delivered:
    """Insert every delivery due at `at` (`selectors.due_deliveries_sql`, narrowed as given) in one statement,
    each with its secret token and delivered at `at`; the public archive is marked notified at once (nothing for
    the notice outbox to send), the others wait for it (`notified_at` empty). Then grant the released objects.
    A delivery the unique (wave, partner) constraint already holds is skipped (ON CONFLICT DO NOTHING)."""
    query = selectors.due_deliveries_sql(at=at, partner_ids=partner_ids, advisory_ids=advisory_ids, wave_ids=wave_ids)
    if query is None:
        return Delivered()
    sql = f"""
        INSERT INTO {_table(Delivery)}
            (wave_id, advisory_id, partner_id, level, cohort_id, fingerprint_token, delivered_at, notified_at)
        SELECT due.wave_id, due.advisory_id, due.partner_id, due.level, due.cohort_id,
               {RANDOM_TOKEN[connection.vendor]}, %(at)s, CASE WHEN due.public_archive THEN %(at)s END
        FROM ({query.sql}) due
        WHERE true
        ON CONFLICT (wave_id, partner_id) DO NOTHING
        RETURNING id, partner_id, advisory_id, notified_at
    """  # noqa: S608 - table names and the due rule's SQL come from the code; values are parameters.  # nosec B608
    with connection.cursor() as cursor:
        # `WHERE true` above: SQLite reads an ON CONFLICT right after a FROM as part of a join otherwise.
        cursor.execute(sql, query.params)
        rows = sorted(cursor.fetchall())
    if not rows:
        return Delivered()
    delivery_ids = [row[0] for row in rows]
    grant_released_objects(delivery_ids)
    advisory_ids_delivered = {row[2] for row in rows}
    return Delivered(
        delivery_ids=delivery_ids,
        announced=[row[0] for row in rows if row[3] is None],
        public_archive=sum(row[3] is not None for row in rows),
        partners=len({row[1] for row in rows}),
        advisories=sorted(Advisory.objects.filter(pk__in=advisory_ids_delivered).values_list("identifier", flat=True)),
    )


def grant_released_objects(delivery_ids: list[int]) -> None:
    """Grant each delivery's partner Group the receive permission on the advisory and on its documents and
    artifacts up to the delivery's level: one `INSERT ... SELECT` per permission table, whatever the number of
    deliveries; a grant already held is kept (ON CONFLICT DO NOTHING on django-guardian's unique triple)."""
    for model in (Advisory, AdvisoryDocument, Artifact):
        if model is Advisory:
            objects, object_id = "", "d.advisory_id"
        else:
            objects, object_id = (
                f"JOIN {_table(model)} o ON o.advisory_id = d.advisory_id AND o.level <= d.level",
                "o.id",
            )
        sql = f"""
            INSERT INTO {_table(get_group_obj_perms_model(model))} (group_id, permission_id, content_object_id)
            SELECT p.group_id, (
                       SELECT permission.id FROM auth_permission permission
                       JOIN django_content_type content_type ON content_type.id = permission.content_type_id
                       WHERE content_type.app_label = %(app_label)s AND content_type.model = %(model)s
                         AND permission.codename = %(codename)s),
                   {object_id}
            FROM {_table(Delivery)} d
            JOIN {_table(Partner)} p ON p.id = d.partner_id
            {objects}
            WHERE d.id IN ({selectors.json_ids_sql("delivery_ids")})
            ON CONFLICT (group_id, permission_id, content_object_id) DO NOTHING
        """  # noqa: S608 - table names come from the code; values are parameters.  # nosec B608
        with connection.cursor() as cursor:
            cursor.execute(
                sql,
                {
                    "app_label": model._meta.app_label,
                    "model": model._meta.model_name,
                    "codename": release_permission_codename(model),
                    "delivery_ids": json.dumps(delivery_ids),
                },
            )
