import json

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person who logs in with an email address: program staff, or a member of one partner organisation."""

    username = None
    email = models.EmailField("email address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return self.email


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionDenied("The audit log is append-only.")

    def delete(self):
        raise PermissionDenied("The audit log is append-only.")


class AppendOnlyModel(models.Model):
    """A row that is written once and never changed or deleted (the model refuses; on PostgreSQL a trigger too)."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionDenied("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("The audit log is append-only.")


class AuditEvent(AppendOnlyModel):
    """One entry of the append-only audit log. Written in the transaction of the change it records, unchained; the
    sequencer (`core.services.link_audit_events`) then links it into the keyed hash chain (`AuditChainLink`)."""

    created_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events")
    actor_label = models.CharField(max_length=254, help_text="Who acted, kept even if the account is renamed.")
    action = models.CharField(max_length=100, db_index=True)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self):
        # Not the target's label: it may name what a viewer is not to see (need-to-know, program/admin.py).
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} (event {self.pk})"

    def canonical_content(self) -> dict:
        """What the chain covers: every recorded field and the event's id, as the database returns them."""
        return {
            "id": self.pk,
            "created_at": self.created_at.isoformat(timespec="microseconds"),
            "actor_id": self.actor_id,
            "actor_label": self.actor_label,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "target_label": self.target_label,
            "details": self.details,
            "ip_address": self.ip_address,
        }


class AuditChainLink(AppendOnlyModel):
    """One link of the keyed hash chain over the audit log: position n names one event and carries
    HMAC-SHA-256(key, n, hash of link n-1, the event's content). The key lives outside the database
    (FOREWARN_AUDIT_CHAIN_KEY), so whoever can write the database cannot recompute the links after changing an
    event; signed checkpoints of the head, published outside the database, expose a truncated chain."""

    GENESIS_HASH = "0" * 64

    position = models.BigIntegerField(primary_key=True)
    # No database constraint: linking an event must never wait for a lock on the event row (docs/audit.md).
    event = models.OneToOneField(
        AuditEvent, on_delete=models.DO_NOTHING, db_constraint=False, related_name="chain_link"
    )
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    linked_at = models.DateTimeField()

    class Meta:
        ordering = ["position"]

    def __str__(self):
        return f"link {self.position}: event {self.event_id}"

    def signed_content(self, event: AuditEvent) -> bytes:
        """The bytes the link's HMAC covers, in a fixed order and encoding."""
        content = {"position": self.position, "previous_hash": self.previous_hash, "event": event.canonical_content()}
        return json.dumps(content, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder).encode()


class ProtectedStateMixin:
    """For models whose state field is a protected django-fsm field: lets `refresh_from_db` reload the state, which
    the protection would otherwise refuse as a direct assignment. `STATE_FIELDS` names the protected fields."""

    STATE_FIELDS = ("status",)

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        for name in self.STATE_FIELDS:
            if fields is None or name in fields:
                self.__dict__.pop(name, None)
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)


class OutboxMessage(models.Model):
    """Work that must follow a committed change (core/outbox.py): a registered handler and its keyword arguments,
    written in the change's transaction, marked done in the transaction that ran it."""

    handler = models.CharField(max_length=100)
    arguments = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["created_at"], condition=models.Q(done_at=None), name="outbox_pending_idx"),
        ]

    def __str__(self):
        return f"{self.handler} #{self.pk} ({'done' if self.done_at else 'pending'})"


class SkippedTick(models.Model):
    """A periodic task's message that expired before any worker took it (every worker of its queue busy or down):
    one row each, so that `release_pipeline_status` counts the ticks lost, not only the last one that ran."""

    name = models.CharField(max_length=200)
    skipped_at = models.DateTimeField()

    class Meta:
        ordering = ["-skipped_at"]
        indexes = [models.Index(fields=["name", "skipped_at"])]

    def __str__(self):
        return f"{self.name} skipped at {self.skipped_at:%Y-%m-%d %H:%M:%S} UTC"


class Heartbeat(models.Model):
    """The last time a periodic job ran, one row per job, so that any node can tell whether beat and the workers
    are alive (`manage.py release_pipeline_status`)."""

    name = models.CharField(max_length=100, unique=True)
    beat_at = models.DateTimeField()
    # The running process's clock minus the database's at that beat (None on SQLite): a drifting worker shows here.
    clock_skew_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S} UTC"
