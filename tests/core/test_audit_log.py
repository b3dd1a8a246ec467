"""The audit log: events appended without a global lock, linked by the sequencer into a chain keyed with a secret
outside the database, signed checkpoints published outside the database, and verify_audit naming what is missing:
a changed or deleted event, a re-chained history, a truncated chain, events left unchained."""

import hashlib
import json
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from core import audit_chain
from core.models import AuditChainLink, AuditEvent
from core.selectors import verify_audit_chain
from core.services import link_audit_events, publish_audit_checkpoint, record_audit_event
from tests.ops.test_production_settings import REQUIRED_ENVIRONMENT

OTHER_SIGNING_KEY = "b3RoZXItc2lnbmluZy1rZXktb2YtYW4tYXR0YWNrZXI="  # 32 bytes, not the configured key


def checkpoint_root() -> Path:
    return Path(settings.STORAGES["audit_checkpoints"]["OPTIONS"]["location"])


@pytest.fixture(autouse=True)
def empty_checkpoint_storage():
    """Checkpoints live outside the database, so the test database's rollback does not remove them."""
    root = checkpoint_root()
    shutil.rmtree(root, ignore_errors=True)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _record(count, actor=None):
    return [record_audit_event(actor=actor, action="test.event", details={"n": n}) for n in range(count)]


def _recorded_and_linked(count, actor=None):
    events = _record(count, actor=actor)
    link_audit_events()
    return events


def _alter_by_hand(*statements):
    """Change rows as someone with superuser access to the database would: on PostgreSQL, with triggers off."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        try:
            for sql, params in statements:
                cursor.execute(sql, params)
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = origin")


def _problems(**options) -> str:
    return "\n".join(verify_audit_chain(**options).problems)


# Appending and linking -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_event_is_recorded_unchained_and_the_sequencer_links_events_in_order(manager):
    first, second, third = _record(3, actor=manager)
    assert not AuditChainLink.objects.exists()

    assert link_audit_events() == 3

    links = list(AuditChainLink.objects.order_by("position"))
    assert [(link.position, link.event_id) for link in links] == [(1, first.pk), (2, second.pk), (3, third.pk)]
    assert links[0].previous_hash == AuditChainLink.GENESIS_HASH
    assert [link.previous_hash for link in links[1:]] == [link.hash for link in links[:-1]]
    assert first.actor_label == manager.email
    assert link_audit_events() == 0


@pytest.mark.django_db
def test_links_are_keyed_so_the_same_events_under_another_key_hash_differently():
    (event,) = _recorded_and_linked(1)
    link = AuditChainLink.objects.get()

    with override_settings(AUDIT_CHAIN_KEY="another-key-that-an-attacker-might-guess-at"):
        assert audit_chain.link_hash(link, AuditEvent.objects.get(pk=event.pk)) != link.hash
    assert audit_chain.link_hash(link, AuditEvent.objects.get(pk=event.pk)) == link.hash
    plain = hashlib.sha256(link.signed_content(AuditEvent.objects.get(pk=event.pk))).hexdigest()
    assert plain != link.hash


@pytest.mark.django_db
def test_events_are_linked_once_after_their_transaction_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        _record(3)
        assert not AuditChainLink.objects.exists()

    assert len(callbacks) == 1
    assert AuditChainLink.objects.count() == 3


@pytest.mark.django_db
def test_an_event_rolls_back_with_the_change_it_records_and_is_never_linked():
    with pytest.raises(RuntimeError, match="the change failed"), transaction.atomic():
        record_audit_event(actor=None, action="test.event")
        raise RuntimeError("the change failed")

    assert not AuditEvent.objects.exists()
    assert link_audit_events() == 0


@pytest.mark.django_db
def test_the_sequencer_refuses_to_run_inside_a_callers_transaction():
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        link_audit_events()


# Verification --------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_verify_audit_passes_on_an_untouched_chain_checked_against_its_checkpoint(capsys):
    _record(4)
    publish_audit_checkpoint()
    _recorded_and_linked(1)

    call_command("verify_audit")

    output = capsys.readouterr()
    assert "Audit chain intact: 5 events verified; checked against 1 signed checkpoints" in output.out
    assert "links 5 to 5 are not covered by a checkpoint yet" in output.err


@pytest.mark.django_db
def test_verify_audit_names_an_event_altered_by_hand():
    events = _recorded_and_linked(5)
    _alter_by_hand(("UPDATE core_auditevent SET action = %s WHERE id = %s", ["nothing.happened", events[2].pk]))

    with pytest.raises(CommandError, match=rf"link 3 \(event {events[2].pk}\) does not match its keyed hash"):
        call_command("verify_audit")


@pytest.mark.django_db
def test_verify_audit_detects_a_history_rechained_without_the_key():
    """The attacker rewrites one event and recomputes every later link, with everything but the key."""
    events = _recorded_and_linked(6)
    _alter_by_hand(("UPDATE core_auditevent SET details = %s WHERE id = %s", [json.dumps({"n": 99}), events[2].pk]))
    statements, previous = [], AuditChainLink.objects.get(position=2).hash
    for link in AuditChainLink.objects.filter(position__gte=3).order_by("position"):
        link.previous_hash = previous
        forged = hashlib.sha256(link.signed_content(AuditEvent.objects.get(pk=link.event_id))).hexdigest()
        statements.append(
            (
                "UPDATE core_auditchainlink SET previous_hash = %s, hash = %s WHERE position = %s",
                [previous, forged, link.position],
            )
        )
        previous = forged
    _alter_by_hand(*statements)

    report = verify_audit_chain()

    assert report.first_broken_id == events[2].pk
    assert "link 3 (event" in report.problem and "recomputed without the key" in report.problem


@pytest.mark.django_db
def test_verify_audit_detects_a_history_rechained_with_the_key_against_the_checkpoint():
    """Even an insider holding the chain key cannot rewrite what a published checkpoint covers."""
    events = _record(5)
    publish_audit_checkpoint()
    _alter_by_hand(("UPDATE core_auditevent SET action = 'forged' WHERE id = %s", [events[1].pk]))
    statements, previous = [], AuditChainLink.objects.get(position=1).hash
    for link in AuditChainLink.objects.filter(position__gte=2).order_by("position"):
        link.previous_hash = previous
        recomputed = audit_chain.link_hash(link, AuditEvent.objects.get(pk=link.event_id))
        statements.append(
            (
                "UPDATE core_auditchainlink SET previous_hash = %s, hash = %s WHERE position = %s",
                [previous, recomputed, link.position],
            )
        )
        previous = recomputed
    _alter_by_hand(*statements)

    problems = _problems()

    assert "link 5 (event" in problems and "is not the link the checkpoint of" in problems
    assert "the history up to it was rewritten" in problems


@pytest.mark.django_db
def test_verify_audit_detects_the_newest_events_truncated_after_a_checkpoint():
    events = _record(6)
    publish_audit_checkpoint()
    _alter_by_hand(
        *[("DELETE FROM core_auditchainlink WHERE event_id = %s", [event.pk]) for event in events[-2:]],
        *[("DELETE FROM core_auditevent WHERE id = %s", [event.pk]) for event in events[-2:]],
    )

    with pytest.raises(CommandError, match=r"the chain has 4 links but the checkpoint of .* signed 6: the newest 2"):
        call_command("verify_audit")


@pytest.mark.django_db
def test_without_a_checkpoint_a_truncation_is_only_a_warning_and_require_checkpoint_fails(capsys):
    _recorded_and_linked(3)

    call_command("verify_audit")
    assert "no signed checkpoint found" in capsys.readouterr().err
    with pytest.raises(CommandError, match="No signed checkpoint"):
        call_command("verify_audit", "--require-checkpoint")


@pytest.mark.django_db
def test_verify_audit_names_an_event_deleted_from_the_middle():
    events = _recorded_and_linked(5)
    _alter_by_hand(("DELETE FROM core_auditevent WHERE id = %s", [events[2].pk]))

    with pytest.raises(CommandError, match=rf"event {events[2].pk} of link 3 is missing: deleted"):
        call_command("verify_audit")


@pytest.mark.django_db
def test_verify_audit_names_a_link_deleted_with_its_event():
    events = _recorded_and_linked(5)
    _alter_by_hand(
        ("DELETE FROM core_auditchainlink WHERE position = %s", [3]),
        ("DELETE FROM core_auditevent WHERE id = %s", [events[2].pk]),
    )

    with pytest.raises(CommandError, match=r"links 3 are missing: removed from the chain before link 4"):
        call_command("verify_audit")


@pytest.mark.django_db
def test_events_left_unchained_beyond_the_grace_period_are_named():
    _recorded_and_linked(2)
    late = record_audit_event(actor=None, action="test.late")

    assert verify_audit_chain().pending == 1 and verify_audit_chain().intact
    report = verify_audit_chain(now=timezone.now() + timedelta(seconds=settings.AUDIT_LINK_GRACE_SECONDS + 1))
    assert report.first_broken_id == late.pk
    assert f"1 events are not in the chain {settings.AUDIT_LINK_GRACE_SECONDS} s after" in report.problem


@pytest.mark.django_db
def test_a_checkpoint_signed_with_another_key_is_reported_as_forged():
    _record(3)
    with override_settings(AUDIT_CHECKPOINT_SIGNING_KEY=OTHER_SIGNING_KEY):
        publish_audit_checkpoint()

    assert "does not carry a valid signature: forged" in _problems()


@pytest.mark.django_db
def test_a_verifier_holding_only_the_public_key_checks_the_checkpoints():
    _record(3)
    checkpoint = publish_audit_checkpoint()
    public_key = json.loads(next(Path(checkpoint_root()).rglob("*.json")).read_text())["public_key"]

    with override_settings(AUDIT_CHECKPOINT_SIGNING_KEY="", AUDIT_CHECKPOINT_PUBLIC_KEYS=[public_key]):
        report = verify_audit_chain()

    assert report.intact and report.latest_checkpoint.size == checkpoint.size == 3


@pytest.mark.django_db
def test_checkpoints_signed_before_a_key_rotation_verify_with_the_earlier_public_key():
    _record(2)
    publish_audit_checkpoint()
    earlier_public_key = audit_chain.public_key_text(audit_chain.verification_keys()[0])
    _record(1)

    with override_settings(AUDIT_CHECKPOINT_SIGNING_KEY=OTHER_SIGNING_KEY):
        publish_audit_checkpoint()
        assert "forged" in _problems()
        with override_settings(AUDIT_CHECKPOINT_PUBLIC_KEYS=[earlier_public_key]):
            report = verify_audit_chain()

    assert report.intact and report.checkpoints_checked == 2


# Checkpoints ---------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_checkpoint_is_signed_and_published_outside_the_database_once_per_growth(empty_checkpoint_storage, caplog):
    _record(2)

    with caplog.at_level("INFO", logger="forewarn.audit"):
        checkpoint = publish_audit_checkpoint()
    assert publish_audit_checkpoint() is None  # nothing new: nothing published

    (stored,) = list(empty_checkpoint_storage.rglob("*.json"))
    document = json.loads(stored.read_text())
    assert (document["size"], document["head"]) == (2, AuditChainLink.objects.get(position=2).hash)
    assert document["algorithm"] == "Ed25519" and checkpoint.signature_is_valid()
    assert any(getattr(record, "audit_checkpoint", {}).get("size") == 2 for record in caplog.records)


@pytest.mark.django_db
def test_an_event_committed_long_after_newer_ones_were_chained_is_linked_by_the_checkpoint_run():
    """A transaction open for hours commits an event older, by id and time, than those already chained: the
    frequent run looks only at recent events; the checkpoint run sweeps everything."""
    newer = AuditEvent(pk=10**9, created_at=timezone.now(), actor_label="system", action="test.newer")
    newer.save()
    assert link_audit_events() == 1
    AuditEvent(
        pk=10**9 - 1, created_at=timezone.now() - timedelta(hours=3), actor_label="system", action="test.late"
    ).save()

    assert link_audit_events() == 0
    publish_audit_checkpoint()

    assert AuditChainLink.objects.get(position=2).event_id == 10**9 - 1
    assert verify_audit_chain().intact


def test_beat_links_events_and_publishes_checkpoints():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert {"core.tasks.link_audit_events", "core.tasks.publish_audit_checkpoint"} <= tasks


# Append-only ---------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_models_refuse_update_and_delete():
    event = _recorded_and_linked(1)[0]
    link = AuditChainLink.objects.get()

    for row in (event, link):
        with pytest.raises(PermissionDenied, match="The audit log is append-only"):
            row.save()
        with pytest.raises(PermissionDenied, match="The audit log is append-only"):
            row.delete()
    with pytest.raises(PermissionDenied, match="The audit log is append-only"):
        AuditEvent.objects.filter(pk=event.pk).update(action="changed")
    with pytest.raises(PermissionDenied, match="The audit log is append-only"):
        AuditChainLink.objects.filter(pk=link.pk).update(hash="0" * 64)
    for model in (AuditEvent, AuditChainLink):
        with pytest.raises(PermissionDenied, match="The audit log is append-only"):
            model.objects.all().delete()


@pytest.mark.django_db
def test_postgresql_refuses_update_and_delete_of_events_and_links_even_in_raw_sql():
    if connection.vendor != "postgresql":
        pytest.skip("The append-only triggers exist on PostgreSQL only; CI runs this on PostgreSQL.")
    event = _recorded_and_linked(1)[0]

    for statement, key in (
        ("UPDATE core_auditevent SET action = 'x' WHERE id = %s", event.pk),
        ("DELETE FROM core_auditevent WHERE id = %s", event.pk),
        ("UPDATE core_auditchainlink SET hash = 'x' WHERE position = %s", 1),
        ("DELETE FROM core_auditchainlink WHERE position = %s", 1),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [key])
    assert AuditEvent.objects.get(pk=event.pk).action == "test.event"
    assert AuditChainLink.objects.get().event_id == event.pk


# Settings ------------------------------------------------------------------------------------------------------------


def _production_settings_with(**changes) -> subprocess.CompletedProcess:
    environment = {**REQUIRED_ENVIRONMENT, **changes}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=settings.BASE_DIR,
        env={name: value for name, value in environment.items() if value is not None},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_starts_with_its_own_audit_keys():
    assert _production_settings_with().returncode == 0


@pytest.mark.parametrize("missing", ["FOREWARN_AUDIT_CHAIN_KEY", "FOREWARN_AUDIT_CHECKPOINT_SIGNING_KEY"])
def test_production_refuses_to_start_without_the_audit_keys(missing):
    result = _production_settings_with(**{missing: None})

    assert result.returncode != 0
    assert missing in result.stderr


@pytest.mark.parametrize(
    "setting", ["FOREWARN_AUDIT_CHAIN_KEY", "FOREWARN_AUDIT_CHECKPOINT_SIGNING_KEY"], ids=["chain", "checkpoint"]
)
def test_production_refuses_the_development_audit_keys(setting):
    development = {
        "FOREWARN_AUDIT_CHAIN_KEY": settings.AUDIT_CHAIN_KEY,
        "FOREWARN_AUDIT_CHECKPOINT_SIGNING_KEY": settings.AUDIT_CHECKPOINT_SIGNING_KEY,
    }
    result = _production_settings_with(**{setting: development[setting]})

    assert result.returncode != 0
    assert f"{setting} must be" in result.stderr
