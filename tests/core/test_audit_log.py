"""The audit log is a SHA-256 hash chain that refuses change, and verify_audit names the first broken link."""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from core.models import AuditEvent
from core.selectors import verify_audit_chain
from core.services import record_audit_event


def _record(count, actor=None):
    return [record_audit_event(actor=actor, action="test.event", details={"n": n}) for n in range(count)]


def _alter_by_hand(sql, params):
    """Change a row as someone with superuser access to the database would: on PostgreSQL, with triggers off."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql, params)
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = origin")


@pytest.mark.django_db
def test_each_event_links_to_the_hash_of_the_one_before(manager):
    first, second, third = _record(3, actor=manager)

    assert first.previous_hash == AuditEvent.GENESIS_HASH
    assert second.previous_hash == first.hash
    assert third.previous_hash == second.hash
    assert first.actor_label == manager.email


@pytest.mark.django_db
def test_verify_audit_passes_on_an_untouched_chain(capsys):
    _record(5)

    call_command("verify_audit")

    assert "Audit chain intact: 5 events verified." in capsys.readouterr().out


@pytest.mark.django_db
def test_verify_audit_fails_naming_the_row_altered_by_hand():
    events = _record(5)
    _alter_by_hand("UPDATE core_auditevent SET action = %s WHERE id = %s", ["nothing.happened", events[2].id])

    with pytest.raises(CommandError, match=rf"broken at event {events[2].id}: its content does not match its hash"):
        call_command("verify_audit")


@pytest.mark.django_db
def test_verify_audit_detects_a_row_recomputed_to_hide_a_change():
    events = _record(4)
    forged = AuditEvent.objects.get(pk=events[1].pk)
    forged.action = "forged"
    forged_hash = forged.compute_hash()
    _alter_by_hand("UPDATE core_auditevent SET action = 'forged', hash = %s WHERE id = %s", [forged_hash, events[1].id])

    report = verify_audit_chain()

    assert report.first_broken_id == events[2].id
    assert "previous hash" in report.problem


@pytest.mark.django_db
def test_the_model_refuses_update_and_delete():
    event = _record(1)[0]

    with pytest.raises(PermissionDenied):
        event.save()
    with pytest.raises(PermissionDenied):
        event.delete()
    with pytest.raises(PermissionDenied):
        AuditEvent.objects.filter(pk=event.pk).update(action="changed")
    with pytest.raises(PermissionDenied):
        AuditEvent.objects.filter(pk=event.pk).delete()


@pytest.mark.django_db
def test_postgresql_refuses_update_and_delete_even_in_raw_sql():
    if connection.vendor != "postgresql":
        pytest.skip("The append-only trigger exists on PostgreSQL only; CI runs this on PostgreSQL.")
    event = _record(1)[0]

    for statement in (
        "UPDATE core_auditevent SET action = 'x' WHERE id = %s",
        "DELETE FROM core_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [event.id])
    assert AuditEvent.objects.get(pk=event.pk).action == "test.event"


@pytest.mark.django_db
def test_an_event_rolls_back_with_the_change_it_records():
    with pytest.raises(RuntimeError), transaction.atomic():
        record_audit_event(actor=None, action="test.event")
        raise RuntimeError("the change failed")

    assert not AuditEvent.objects.exists()
