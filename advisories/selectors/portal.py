"""What a partner organisation may see in the portal and the API: its advisories (a page at a time, by
position), one advisory with its documents and files, and the public CSAF advisories."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    DateTimeField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce, Greatest
from django.http import Http404

from advisories.access import get_released_object_or_404, released_objects, released_to_group
from advisories.models import (
    SEVERITY_SCORE_RANGES,
    TLP,
    Advisory,
    AdvisoryDocument,
    AdvisoryStatus,
    Artifact,
    Delivery,
    HandlingAcknowledgement,
    Severity,
)
from compliance.entitlements import PartnerAccess
from core.compiled_queries import CompiledQuery
from core.levels import AccessLevel


def advisories_for_partner(*, access: PartnerAccess | None, search: str = "") -> QuerySet[Advisory]:
    """The advisories released to the organisation that it is still entitled to, most recently delivered first.
    A withdrawn advisory is never listed (its grants are revoked too).

    Each advisory is read through the organisation's highest-level delivery of it, which is also its latest (a
    partner receives another delivery of an advisory only at a higher level), so that the database walks the
    organisation's deliveries in index order: a page costs the same whatever the number of advisories."""
    queryset = released_objects(Advisory.objects.exclude(status=AdvisoryStatus.WITHDRAWN), access)
    if access is None:
        return queryset
    search = search.strip()
    if search:
        queryset = queryset.filter(
            Q(identifier__icontains=search) | Q(title__icontains=search) | Q(cve_ids__icontains=search)
        )
    partner_id = access.partner.pk
    higher_delivery = Delivery.objects.filter(
        partner_id=partner_id,
        advisory_id=OuterRef("deliveries__advisory_id"),
        level__gt=OuterRef("deliveries__level"),
    )
    return (
        queryset.filter(~Exists(higher_delivery), deliveries__partner_id=partner_id)
        .annotate(delivered_at=F("deliveries__delivered_at"))
        .order_by("-delivered_at", "-id")
    )


@dataclass(frozen=True)
class ListCursor:
    """A place in a list ordered by delivery, newest first: the delivery instant and the advisory id of one row.
    Its token (`<microseconds since the epoch>-<advisory id>`) is what the list's Newer and Older links carry; it
    only positions the list: every row still comes through the organisation's own filters."""

    delivered_at: datetime
    advisory_id: int

    @property
    def token(self) -> str:
        moment = self.delivered_at - EPOCH
        return f"{(moment.days * 86_400 + moment.seconds) * 1_000_000 + moment.microseconds}-{self.advisory_id}"

    @classmethod
    def from_token(cls, token: str) -> "ListCursor":
        """The cursor a token names; ValueError for anything that is not one (a cut or edited link)."""
        microseconds, separator, advisory_id = token.partition("-")
        if not (separator and microseconds.isascii() and microseconds.isdigit() and advisory_id.isascii()):
            raise ValueError("not a list position")
        # At most 17 digits (up to the year 5138): no overflow, and an id PostgreSQL's bigint holds.
        if not advisory_id.isdigit() or len(microseconds) > 17 or len(advisory_id) > 18:
            raise ValueError("not a list position")
        return cls(delivered_at=EPOCH + timedelta(microseconds=int(microseconds)), advisory_id=int(advisory_id))

    @classmethod
    def of(cls, advisory: Advisory) -> "ListCursor":
        return cls(delivered_at=advisory.delivered_at, advisory_id=advisory.pk)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ListPage:
    """One page of a list ordered by delivery, newest first, and the cursors of its neighbours (None at either
    end): no count of the whole list, so that a page costs the same at any depth."""

    object_list: list
    newer: ListCursor | None
    older: ListCursor | None

    def __iter__(self):
        return iter(self.object_list)

    def __getitem__(self, index):
        return self.object_list[index]

    def __len__(self):
        return len(self.object_list)


def delivery_list_page(
    queryset: QuerySet, *, size: int, before: ListCursor | None = None, after: ListCursor | None = None
) -> ListPage:
    """The page of `queryset` (rows annotated with `delivered_at`, listed newest first by it and then by id) just
    older than `before`, or just newer than `after`, or the newest page. One query (two when `after` reaches the
    newest rows: the newest page is shown then), which walks an index on the delivery instant from the cursor
    and reads `size` + 1 rows, whatever the depth."""
    if after is not None:
        rows = list(
            queryset.filter(
                Q(delivered_at__gt=after.delivered_at) | Q(delivered_at=after.delivered_at, id__gt=after.advisory_id),
                delivered_at__gte=after.delivered_at,
            ).order_by("delivered_at", "id")[: size + 1]
        )
        if len(rows) <= size:
            return delivery_list_page(queryset, size=size)
        rows = rows[:size][::-1]
        return ListPage(object_list=rows, newer=ListCursor.of(rows[0]), older=ListCursor.of(rows[-1]))
    if before is not None:
        queryset = queryset.filter(
            Q(delivered_at__lt=before.delivered_at) | Q(delivered_at=before.delivered_at, id__lt=before.advisory_id),
            delivered_at__lte=before.delivered_at,
        )
    rows = list(queryset.order_by("-delivered_at", "-id")[: size + 1])
    return ListPage(
        object_list=rows[:size],
        newer=ListCursor.of(rows[0]) if before is not None and rows else None,
        older=ListCursor.of(rows[size - 1]) if len(rows) > size else None,
    )


def advisory_list_page_for_partner(
    *,
    access: PartnerAccess,
    size: int,
    search: str = "",
    before: ListCursor | None = None,
    after: ListCursor | None = None,
) -> ListPage:
    """A page of `advisories_for_partner`, newest delivery first, older than `before` or newer than `after`."""
    return delivery_list_page(
        advisories_for_partner(access=access, search=search), size=size, before=before, after=after
    )


def _with_sync_dates(queryset: QuerySet[Advisory], *, partner_id: int, level: int) -> QuerySet[Advisory]:
    """Annotate when the organisation first and last received each advisory, and `changed_at`: the last moment
    its copy changed (the advisory itself, a new delivery, or a description at its level), for incremental sync."""
    deliveries = Delivery.objects.filter(advisory=OuterRef("pk"), partner_id=partner_id)
    latest_document = AdvisoryDocument.objects.filter(advisory=OuterRef("pk"), level__lte=level)
    delivered_at = Subquery(deliveries.order_by("-delivered_at").values("delivered_at")[:1])
    return queryset.annotate(
        first_delivered_at=Subquery(deliveries.order_by("delivered_at").values("delivered_at")[:1]),
        delivered_at=delivered_at,
        changed_at=Greatest(
            "updated_at",
            Coalesce(delivered_at, "updated_at"),
            Coalesce(Subquery(latest_document.order_by("-updated_at").values("updated_at")[:1]), "updated_at"),
            output_field=DateTimeField(),
        ),
    )


def advisories_for_partner_sync(
    *,
    access: PartnerAccess | None,
    updated_since: datetime | None = None,
    product: str = "",
    cve: str = "",
    severity: str = "",
) -> QuerySet[Advisory]:
    """The advisories released to the organisation that it is still entitled to (the portal's list), for the API:
    each annotated with `changed_at`, narrowed to those changed at or after `updated_since`, and filtered by
    affected product (substring), CVE id (exact) and CVSS severity. Withdrawn advisories are left out, as in the
    portal."""
    queryset = released_objects(Advisory.objects.exclude(status=AdvisoryStatus.WITHDRAWN), access)
    if access is None:
        return queryset
    queryset = _with_sync_dates(queryset, partner_id=access.partner.pk, level=access.level)
    if updated_since is not None:
        queryset = queryset.filter(changed_at__gte=updated_since)
    if product:
        queryset = queryset.filter(affected_products__icontains=product)
    if cve:
        # JSON containment is not portable to SQLite: match the quoted id in the stored list instead.
        queryset = queryset.filter(cve_ids__icontains=f'"{cve}"')
    if severity:
        low, high = SEVERITY_SCORE_RANGES[Severity(severity)]
        queryset = queryset.filter(cvss_score__gte=low, cvss_score__lte=high)
    return queryset


def advisory_for_partner(*, access: PartnerAccess | None, identifier: str, reader=None) -> Advisory:
    """One advisory with the documents and artifacts the organisation may see, and its delivery dates for the
    organisation; 404 for anything else (a withdrawn advisory included). With a `reader`, also whether that user
    acknowledged its handling terms (`handling_acknowledged`), read in the same query. `access_delivery` is the
    delivery a view of it is recorded against (`services.record_access`).

    Three queries, each compiled once per process (`core.compiled_queries`): building them costs Django several
    times what PostgreSQL takes to run them, on a page every reader opens."""
    if access is None or access.level == AccessLevel.NONE:
        raise Http404("No such advisory or file.")
    values = {"identifier": identifier, "group_id": access.partner.group_id, "level": int(access.level)}
    values["partner_id"] = access.partner.pk
    if reader is not None:
        values["reader_id"] = reader.pk
    rows = _RELEASED_ADVISORY.rows(shape=_content_types(), **values)
    if not rows:
        raise Http404("No such advisory or file.")
    row = rows[0]
    advisory = Advisory.from_db("default", _ADVISORY_FIELDS, row[: len(_ADVISORY_FIELDS)])
    columns = _advisory_columns(reader is not None)[len(_ADVISORY_FIELDS) :]
    _set_extra_columns(advisory, columns, row[len(_ADVISORY_FIELDS) :])
    released = {"advisory_id": advisory.pk, "group_id": access.partner.group_id, "level": int(access.level)}
    for name, statement, model, fields in (
        ("documents", _RELEASED_DOCUMENTS, AdvisoryDocument, _DOCUMENT_FIELDS),
        ("artifacts", _RELEASED_ARTIFACTS, Artifact, _ARTIFACT_FIELDS),
    ):
        objects = [
            model.from_db("default", fields, values) for values in statement.rows(shape=_content_types(), **released)
        ]
        for obj in objects:
            obj.advisory = advisory
        _prefetched(advisory, name, objects)
    return advisory


def _content_types() -> tuple[int, ...]:
    """The content type ids the compiled queries name (`released_to_group`): a database built anew (tests) may
    number them differently."""
    return tuple(ContentType.objects.get_for_model(model).pk for model in (Advisory, AdvisoryDocument, Artifact))


def _prefetched(advisory: Advisory, name: str, objects: list) -> None:
    """Keep `objects` as what `advisory.<name>.all()` returns, as `prefetch_related` would; any further narrowing
    of it finds nothing rather than reading objects the organisation may not see."""
    cached = getattr(advisory, name).none()
    cached._result_cache = objects
    cached._prefetch_done = True
    advisory._prefetched_objects_cache = getattr(advisory, "_prefetched_objects_cache", {})
    advisory._prefetched_objects_cache[name] = cached


_ADVISORY_FIELDS = [field.attname for field in Advisory._meta.concrete_fields]
_DOCUMENT_FIELDS = [field.attname for field in AdvisoryDocument._meta.concrete_fields]
_ARTIFACT_FIELDS = [field.attname for field in Artifact._meta.concrete_fields]
_DELIVERY_FIELDS = [field.attname for field in Delivery._meta.concrete_fields]


def _advisory_columns(with_reader: bool) -> list[str]:
    columns = [*_ADVISORY_FIELDS, "first_delivered_at", "delivered_at", "changed_at"]
    columns += [f"access_delivery_{name}" for name in _DELIVERY_FIELDS]
    return [*columns, "handling_acknowledged"] if with_reader else columns


def _released_advisory(*, identifier, group_id, level, partner_id, reader_id=None) -> QuerySet:
    queryset = released_to_group(
        Advisory.objects.exclude(status=AdvisoryStatus.WITHDRAWN), group_id=group_id, level=level
    ).filter(identifier=identifier)
    queryset = _with_sync_dates(queryset, partner_id=partner_id, level=level)
    # The delivery a view is recorded against, column by column (one row, compiled once: nothing to gain by a join).
    view_delivery = access_deliveries(partner_id=partner_id, advisory=OuterRef("pk"), needed=AccessLevel.GENERIC)
    queryset = queryset.annotate(
        **{f"access_delivery_{name}": Subquery(view_delivery.values(name)[:1]) for name in _DELIVERY_FIELDS}
    )
    if reader_id is not None:
        queryset = queryset.annotate(handling_acknowledged=_acknowledged_by(reader_id, advisory=OuterRef("pk")))
    return queryset.values_list(*_advisory_columns(reader_id is not None)).order_by()[:1]


_RELEASED_ADVISORY = CompiledQuery(_released_advisory)
_RELEASED_DOCUMENTS = CompiledQuery(
    lambda advisory_id, group_id, level: released_to_group(
        AdvisoryDocument.objects.filter(advisory_id=advisory_id), group_id=group_id, level=level
    ).values_list(*_DOCUMENT_FIELDS)
)
_RELEASED_ARTIFACTS = CompiledQuery(
    lambda advisory_id, group_id, level: released_to_group(
        Artifact.objects.filter(advisory_id=advisory_id), group_id=group_id, level=level
    ).values_list(*_ARTIFACT_FIELDS)
)


def access_deliveries(*, partner_id: int, advisory, needed: int) -> QuerySet[Delivery]:
    """The organisation's deliveries of the advisory that carry an object of level `needed`, latest first: an
    access is recorded against the first (`services.record_access`)."""
    return Delivery.objects.filter(partner_id=partner_id, advisory=advisory, level__gte=needed).order_by(
        "-delivered_at"
    )


def artifact_for_partner(*, access: PartnerAccess | None, identifier: str, artifact_id: int, reader=None) -> Artifact:
    """One file with its advisory, if the organisation may have both (404 otherwise), and `access_delivery`, the
    delivery a download of it is recorded against, in one query compiled once per process. With a `reader`, also
    whether that user acknowledged the advisory's handling terms (`handling_acknowledged`)."""
    if access is None or access.level == AccessLevel.NONE:
        raise Http404("No such advisory or file.")
    values = {"identifier": identifier, "artifact_id": int(artifact_id), "group_id": access.partner.group_id}
    values |= {"level": int(access.level), "partner_id": access.partner.pk}
    if reader is not None:
        values["reader_id"] = reader.pk
    rows = _RELEASED_ARTIFACT.rows(shape=_content_types(), **values)
    if not rows:
        raise Http404("No such advisory or file.")
    row = rows[0]
    advisory_end = len(_ARTIFACT_FIELDS) + len(_ADVISORY_FIELDS)
    artifact = Artifact.from_db("default", _ARTIFACT_FIELDS, row[: len(_ARTIFACT_FIELDS)])
    artifact.advisory = Advisory.from_db("default", _ADVISORY_FIELDS, row[len(_ARTIFACT_FIELDS) : advisory_end])
    _set_extra_columns(artifact, _artifact_columns(reader is not None)[advisory_end:], row[advisory_end:])
    return artifact


def _artifact_columns(with_reader: bool) -> list[str]:
    columns = [*_ARTIFACT_FIELDS, *(f"advisory__{name}" for name in _ADVISORY_FIELDS)]
    columns += [f"access_delivery_{name}" for name in _DELIVERY_FIELDS]
    return [*columns, "handling_acknowledged"] if with_reader else columns


def _released_artifact(*, identifier, artifact_id, group_id, level, partner_id, reader_id=None) -> QuerySet:
    advisories = released_to_group(
        Advisory.objects.exclude(status=AdvisoryStatus.WITHDRAWN), group_id=group_id, level=level
    )
    queryset = released_to_group(
        Artifact.objects.filter(advisory__in=advisories, advisory__identifier=identifier, pk=artifact_id),
        group_id=group_id,
        level=level,
    )
    download_delivery = access_deliveries(
        partner_id=partner_id, advisory=OuterRef("advisory_id"), needed=OuterRef("level")
    )
    queryset = queryset.annotate(
        **{f"access_delivery_{name}": Subquery(download_delivery.values(name)[:1]) for name in _DELIVERY_FIELDS}
    )
    if reader_id is not None:
        queryset = queryset.annotate(
            handling_acknowledged=_acknowledged_by(reader_id, advisory=OuterRef("advisory_id"))
        )
    return queryset.values_list(*_artifact_columns(reader_id is not None)).order_by()[:1]


_RELEASED_ARTIFACT = CompiledQuery(_released_artifact)


def _set_extra_columns(obj, columns: list[str], values) -> None:
    """Set the annotations read with `obj` on it; the `access_delivery_*` columns as its `access_delivery`."""
    extra = dict(zip(columns, values, strict=True))
    delivery_row = [extra.pop(f"access_delivery_{name}") for name in _DELIVERY_FIELDS]
    for name, value in extra.items():
        setattr(obj, name, value)
    obj.access_delivery = (
        Delivery.from_db("default", _DELIVERY_FIELDS, delivery_row) if delivery_row[0] is not None else None
    )


def _acknowledged_by(user, *, advisory) -> Exists:
    """`user`: the user or their id."""
    return Exists(HandlingAcknowledgement.objects.filter(user=user, advisory=advisory))


def latest_delivery(*, access: PartnerAccess, advisory: Advisory) -> Delivery | None:
    """The organisation's highest-level delivery of the advisory: the one its banner and fingerprint name."""
    return (
        Delivery.objects.filter(partner=access.partner, advisory=advisory).order_by("-level", "-delivered_at").first()
    )


def released_advisory_for_partner(*, access: PartnerAccess | None, identifier: str) -> Advisory:
    """The advisory alone (no documents or files), if the organisation may see it; 404 otherwise."""
    return get_released_object_or_404(Advisory.objects.all(), access, identifier=identifier)


def has_acknowledged_handling(*, user, advisory: Advisory) -> bool:
    """Whether the user acknowledged the advisory's TLP label and handling terms (needed before opening it)."""
    return HandlingAcknowledgement.objects.filter(user=user, advisory=advisory).exists()


def public_csaf_advisories() -> QuerySet[Advisory]:
    """Public TLP:CLEAR advisories: the only ones whose (generic) content anybody may read without a token, in the
    CSAF provider directory (CSAF requirement 4). Every other advisory is served only to the organisations it was
    released to."""
    return Advisory.objects.filter(status=AdvisoryStatus.PUBLIC, tlp=TLP.CLEAR)
