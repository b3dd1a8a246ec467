"""export_partner_record writes one organisation's complete record (for legal requests) as a zip of JSON files with
a sha256 manifest: everything about that organisation, nothing about another, and no secrets."""

import hashlib
import json
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from advisories import services
from advisories.models import AccessKind, Delivery
from compliance.entitlements import partner_access
from core.levels import AccessLevel
from core.models import AuditEvent
from partners.services import add_member, reinstate_partner, suspend_partner
from tests.factories import LevelCapFactory, WaveFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def organisations(make_partner, manager, advisory):
    """The exported organisation, with a full history, and another one that must not appear."""
    exported = make_partner(level=AccessLevel.EARLY, legal_name="Kestrel Labs Ltd")
    other = make_partner(level=AccessLevel.EARLY, legal_name="Harbor Defence GmbH")
    analyst = add_member(actor=manager, partner=exported, email="ana@kestrel.example", role="analyst").user
    add_member(actor=manager, partner=other, email="otto@harbor.example", role="admin")
    LevelCapFactory(partner=exported, cap_level=AccessLevel.EARLY)
    WaveFactory(advisory=advisory, level=AccessLevel.EARLY)
    services.release_due_waves()
    services.record_access(
        access=partner_access(analyst), user=analyst, advisory=advisory, kind=AccessKind.VIEW, ip_address="192.0.2.7"
    )
    suspend_partner(partner=exported, actor=manager, reason="Leak under investigation.")
    reinstate_partner(partner=exported, actor=manager, reason="Cleared.")
    return exported, other


def export(partner, path):
    call_command("export_partner_record", "--partner", str(partner.pk), "--output", str(path), stdout=None)
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def records(files, name):
    return json.loads(files[name])


def test_export_holds_one_file_per_kind_of_record_and_a_manifest(organisations, tmp_path):
    exported, _ = organisations

    files = export(exported, tmp_path / "kestrel.zip")

    assert {
        "manifest.json",
        "partners.partner.json",
        "partners.partnermembership.json",
        "core.user.json",
        "compliance.agreement.json",
        "compliance.enforcementaction.json",
        "advisories.delivery.json",
        "advisories.downloadevent.json",
        "core.auditevent.json",
    } <= set(files)


def test_manifest_gives_the_sha256_and_record_count_of_every_file(organisations, tmp_path):
    exported, _ = organisations

    files = export(exported, tmp_path / "kestrel.zip")

    manifest = json.loads(files["manifest.json"])
    assert manifest["partner"] == {"id": exported.pk, "legal_name": "Kestrel Labs Ltd"}
    assert {entry["name"] for entry in manifest["files"]} == set(files) - {"manifest.json"}
    for entry in manifest["files"]:
        assert entry["sha256"] == hashlib.sha256(files[entry["name"]]).hexdigest()
        assert entry["records"] == len(records(files, entry["name"]))


def test_export_contains_the_organisations_records_and_none_of_another(organisations, tmp_path):
    exported, other = organisations

    files = export(exported, tmp_path / "kestrel.zip")

    assert [row["pk"] for row in records(files, "partners.partner.json")] == [exported.pk]
    assert [row["fields"]["email"] for row in records(files, "core.user.json")] == ["ana@kestrel.example"]
    assert {row["fields"]["partner"] for row in records(files, "partners.partnermembership.json")} == {exported.pk}
    assert len(records(files, "compliance.agreement.json")) == 2
    assert [row["fields"]["kind"] for row in records(files, "compliance.enforcementaction.json")] == ["level_cap"]
    deliveries = records(files, "advisories.delivery.json")
    assert [row["pk"] for row in deliveries] == list(
        Delivery.objects.filter(partner=exported).values_list("pk", flat=True)
    )
    downloads = records(files, "advisories.downloadevent.json")
    assert [(row["fields"]["kind"], row["fields"]["ip_address"]) for row in downloads] == [("view", "192.0.2.7")]
    assert other.legal_name not in b"".join(files.values()).decode()


def test_export_contains_the_audit_events_about_the_organisation_and_its_records(organisations, tmp_path):
    exported, _ = organisations

    files = export(exported, tmp_path / "kestrel.zip")

    actions = [row["fields"]["action"] for row in records(files, "core.auditevent.json")]
    assert {"partner.suspended", "partner.reinstated"} <= set(actions)
    assert len(actions) == len({row["pk"] for row in records(files, "core.auditevent.json")})
    about_other = AuditEvent.objects.filter(target_type="partners.Partner", target_id=str(organisations[1].pk))
    assert not {row["pk"] for row in records(files, "core.auditevent.json")} & set(
        about_other.values_list("pk", flat=True)
    )


def test_export_leaves_out_fingerprint_tokens_and_password_hashes(organisations, tmp_path):
    exported, _ = organisations

    files = export(exported, tmp_path / "kestrel.zip")

    content = b"".join(files.values()).decode()
    token = Delivery.objects.get(partner=exported).fingerprint_token
    assert token not in content
    assert "pbkdf2" not in content and "md5$" not in content
    manifest = json.loads(files["manifest.json"])
    assert manifest["excluded_secret_fields"]["advisories.delivery.json"] == ["fingerprint_token"]


def test_the_export_itself_is_an_audit_event(organisations, tmp_path):
    exported, _ = organisations

    export(exported, tmp_path / "kestrel.zip")

    event = AuditEvent.objects.get(action="partner.record_exported")
    assert event.target_id == str(exported.pk)
    assert event.details["file"] == "kestrel.zip"


def test_export_refuses_to_overwrite_an_existing_file(organisations, tmp_path):
    exported, _ = organisations
    existing = tmp_path / "kestrel.zip"
    existing.write_bytes(b"earlier export")

    with pytest.raises(CommandError, match="exists"):
        call_command("export_partner_record", "--partner", str(exported.pk), "--output", str(existing))

    assert existing.read_bytes() == b"earlier export"


def test_export_of_an_unknown_partner_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match="No partner with id 999999"):
        call_command("export_partner_record", "--partner", "999999", "--output", str(tmp_path / "x.zip"))

    assert not (tmp_path / "x.zip").exists()
