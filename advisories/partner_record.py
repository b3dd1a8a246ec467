"""One organisation's complete record as a zip, for legal requests and audits (`manage.py export_partner_record`).

Every model that points at `Partner` is included automatically, so a record added later cannot be forgotten; the
partner's people and the audit events about the organisation, its records or done by its people come with it.
Secrets (fingerprint tokens, passwords, API token material) are left out: the export may leave the program.
"""

import hashlib
import json
import re
import zipfile
from pathlib import Path

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from core.models import AuditEvent
from core.services import record_audit_event
from partners.models import Partner

FORMAT = "forewarn-partner-record/1"
MANIFEST_NAME = "manifest.json"
SECRET_FIELD = re.compile(r"token|password|secret|key_hash", re.IGNORECASE)
USER_FIELDS = ["email", "first_name", "last_name", "is_active", "date_joined", "last_login"]


def _models_pointing_at_partner() -> list[tuple[type[models.Model], str]]:
    """(model, field name) for every concrete model with a foreign key or one-to-one field to Partner."""
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is Partner and model is not Partner:
                found.append((model, field.name))
    return sorted(found, key=lambda item: (item[0]._meta.label_lower, item[1]))


def _exportable_fields(model) -> tuple[list[str], list[str]]:
    """The field names to export and those left out as secrets."""
    names = [field.name for field in model._meta.concrete_fields if not field.primary_key]
    secret = [name for name in names if SECRET_FIELD.search(name)]
    return [name for name in names if name not in secret], secret


def _serialize(queryset, fields: list[str]) -> bytes:
    return serializers.serialize("json", queryset.order_by("pk"), fields=fields, indent=1).encode()


def _audit_events(partner: Partner, exported: dict[str, list], user_ids: list[int]):
    """Events whose target is the partner or one of its exported rows, or whose actor is one of its people."""
    condition = Q(target_type=Partner._meta.label, target_id=str(partner.pk)) | Q(actor_id__in=user_ids)
    for label, pks in exported.items():
        if pks:
            condition |= Q(target_type=label, target_id__in=[str(pk) for pk in pks])
    return AuditEvent.objects.filter(condition)


def _partner_rows(partner: Partner, files: dict, records: dict, excluded: dict) -> dict[str, list]:
    """Serialise the partner and every row that points at it into `files`; returns the exported pks by model
    label."""
    fields, secret = _exportable_fields(Partner)
    files["partners.partner.json"] = _serialize(Partner.objects.filter(pk=partner.pk), fields)
    records["partners.partner.json"] = 1
    exported: dict[str, list] = {}
    for model, field_name in _models_pointing_at_partner():
        queryset = model._default_manager.filter(**{field_name: partner})
        fields, secret = _exportable_fields(model)
        name = f"{model._meta.label_lower}.json"
        if name in files:  # a second foreign key to Partner on the same model
            name = f"{model._meta.label_lower}.{field_name}.json"
        files[name] = _serialize(queryset, fields)
        pks = list(queryset.values_list("pk", flat=True))
        records[name] = len(pks)
        exported.setdefault(model._meta.label, []).extend(pks)
        if secret:
            excluded[name] = secret
    return exported


def _record_files(partner: Partner) -> tuple[dict[str, bytes], dict[str, int], dict[str, list[str]]]:
    """The record's files (name -> JSON), the number of records in each and the secret fields left out of each."""
    files: dict[str, bytes] = {}
    records: dict[str, int] = {}
    excluded: dict[str, list[str]] = {}
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():
        if snapshot:
            # Every file from one snapshot: a download recorded mid-export cannot appear in one file only.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        exported = _partner_rows(partner, files, records, excluded)
        user_ids = list(partner.memberships.values_list("user_id", flat=True))
        users = get_user_model().objects.filter(pk__in=user_ids)
        files["core.user.json"] = _serialize(users, USER_FIELDS)
        records["core.user.json"] = len(user_ids)
        events = _audit_events(partner, exported, user_ids)
        files["core.auditevent.json"] = _serialize(events, [f.name for f in AuditEvent._meta.concrete_fields[1:]])
        records["core.auditevent.json"] = events.count()
    return files, records, excluded


def _manifest(partner: Partner, files: dict[str, bytes], records: dict[str, int], excluded: dict) -> bytes:
    manifest = {
        "format": FORMAT,
        "partner": {"id": partner.pk, "legal_name": partner.legal_name},
        "exported_at": timezone.now(),
        "files": [
            {
                "name": name,
                "sha256": hashlib.sha256(content).hexdigest(),
                "bytes": len(content),
                "records": records[name],
            }
            for name, content in sorted(files.items())
        ],
        "excluded_secret_fields": excluded,
    }
    return json.dumps(manifest, cls=DjangoJSONEncoder, indent=1).encode()


def export_partner_record(*, partner: Partner, destination: Path, actor=None) -> dict:
    """Write the organisation's record to `destination` (a new zip file): one JSON file per kind of record in
    Django's serialisation format, and a manifest with each file's sha256. The export itself is audited.
    Refuses to overwrite an existing file. Returns the manifest."""
    destination = Path(destination)
    if destination.exists():
        raise FileExistsError(f"{destination} exists; choose a new file name.")
    files, records, excluded = _record_files(partner)
    manifest_bytes = _manifest(partner, files, records, excluded)

    # Written under another name and renamed: a reader never sees a half-written zip under the final name.
    partial = destination.with_name(destination.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in sorted(files.items()):
            archive.writestr(name, content)
        archive.writestr(MANIFEST_NAME, manifest_bytes)
    partial.replace(destination)

    record_audit_event(
        actor=actor,
        action="partner.record_exported",
        target=partner,
        details={"file": destination.name, "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest()},
    )
    return json.loads(manifest_bytes)
