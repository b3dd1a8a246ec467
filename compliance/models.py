import hashlib

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils import timezone
from django_countries.fields import CountryField
from django_fsm import FSMField, transition

from core.levels import AccessLevel
from core.models import ProtectedStateMixin
from core.storage import private_storage


def text_sha256(text: str) -> str:
    """The SHA-256 of a contract text as stored and shown (UTF-8)."""
    return hashlib.sha256(text.encode()).hexdigest()


class PublishedQuerySet(models.QuerySet):
    """Published contract versions are never changed or deleted in bulk either: a change is a new version."""

    def update(self, **kwargs):
        raise PermissionDenied("A published contract version cannot be changed; publish a new version.")

    def delete(self):
        raise PermissionDenied("A published contract version cannot be deleted.")


class ContractVersion(models.Model):
    """One published version of a program contract (e.g. the NDA, the PoC-handling addendum).

    A version is required for `required_from_level` and every level above it. Within one contract (`contract_key`)
    the newest version in effect is the one partners must hold; agreements to the version before it keep counting
    until `previous_versions_valid_until` (the re-sign deadline), or stop when the new version takes effect."""

    contract_key = models.SlugField(max_length=50, help_text="Identifies the contract across its versions, e.g. 'nda'.")
    title = models.CharField(max_length=200)
    version = models.PositiveIntegerField()
    text = models.TextField(help_text="Markdown.")
    text_sha256 = models.CharField(max_length=64, editable=False)
    effective_at = models.DateTimeField()
    required_from_level = models.PositiveSmallIntegerField(
        choices=[(level.value, level.label) for level in AccessLevel if level != AccessLevel.NONE]
    )
    validity_days = models.PositiveIntegerField(default=365, help_text="How long a signature stays valid.")
    previous_versions_valid_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PublishedQuerySet.as_manager()

    class Meta:
        ordering = ["contract_key", "-version"]
        constraints = [models.UniqueConstraint(fields=["contract_key", "version"], name="unique_contract_version")]

    def __str__(self):
        return f"{self.title} v{self.version}"

    def save(self, *args, **kwargs):
        # Immutable once published (on PostgreSQL a trigger refuses it too): a change is a new version.
        if self.pk is not None and ContractVersion.objects.filter(pk=self.pk).exists():
            raise PermissionDenied("A published contract version cannot be changed; publish a new version.")
        self.text_sha256 = text_sha256(self.text)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("A published contract version cannot be deleted.")


class Agreement(models.Model):
    """A partner organisation's signature of one contract version, with the evidence of signing."""

    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="agreements")
    contract_version = models.ForeignKey(ContractVersion, on_delete=models.PROTECT, related_name="agreements")
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    signer_name = models.CharField(max_length=200)
    signer_title = models.CharField(max_length=200)
    signed_at = models.DateTimeField()
    valid_until = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    signed_text_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["-signed_at"]
        indexes = [models.Index(fields=["partner", "valid_until"])]

    def __str__(self):
        return f"{self.partner} signed {self.contract_version} on {self.signed_at:%Y-%m-%d}"

    def save(self, *args, **kwargs):
        if self.pk is not None and Agreement.objects.filter(pk=self.pk).exists():
            raise PermissionDenied("A signed agreement is evidence and cannot be changed.")
        super().save(*args, **kwargs)

    def clean(self):
        if self.valid_until and self.signed_at and self.valid_until <= self.signed_at:
            raise ValidationError({"valid_until": "An agreement must be valid for some time after signing."})


class ReminderKind(models.IntegerChoices):
    """Notices about the end of an agreement (its expiry, or the re-sign deadline of a newer version), by the
    number of days before that end they are due."""

    THIRTY_DAYS = 30, "30 days before the end"
    SEVEN_DAYS = 7, "7 days before the end"
    ONE_DAY = 1, "1 day before the end"
    EXPIRED = 0, "at the end"


class AgreementReminder(models.Model):
    """One reminder (or the notice at the end) sent to a partner's admins about one agreement. The unique
    constraint makes each one go out at most once, however often and however concurrently the task runs."""

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="reminders")
    kind = models.PositiveSmallIntegerField(choices=ReminderKind.choices)
    sent_at = models.DateTimeField()
    recipients = models.JSONField(default=list, help_text="The email addresses it was sent to.")

    class Meta:
        ordering = ["-sent_at"]
        constraints = [models.UniqueConstraint(fields=["agreement", "kind"], name="one_reminder_per_kind")]

    def __str__(self):
        return f"{self.get_kind_display()} reminder for {self.agreement}"


class JurisdictionPolicy(models.Model):
    """The cap on access for partners in one country, in force from `effective_at` until a newer policy for the
    same country. A cap of `early` lifts an earlier cap."""

    country = CountryField()
    cap_level = models.PositiveSmallIntegerField(choices=AccessLevel.choices)
    effective_at = models.DateTimeField()
    reason = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by the task that re-evaluated every partner once the policy took effect.
    applied_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["country", "-effective_at"]
        verbose_name_plural = "jurisdiction policies"
        constraints = [models.UniqueConstraint(fields=["country", "effective_at"], name="unique_policy_per_instant")]

    def __str__(self):
        return f"{self.country.name}: capped at {self.get_cap_level_display()} from {self.effective_at:%Y-%m-%d}"


class EnforcementKind(models.TextChoices):
    WARNING = "warning", "Warning"
    LEVEL_CAP = "level_cap", "Level cap"
    SUSPENSION = "suspension", "Suspension"
    REMOVAL = "removal", "Removal"
    REINSTATEMENT = "reinstatement", "Reinstatement"


class EnforcementAction(models.Model):
    """A measure taken against a partner. A level cap limits the partner's effective level while in force."""

    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="enforcement_actions")
    kind = models.CharField(max_length=20, choices=EnforcementKind.choices)
    cap_level = models.PositiveSmallIntegerField(choices=AccessLevel.choices, null=True, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField()
    violation = models.ForeignKey(
        "compliance.Violation", null=True, blank=True, on_delete=models.PROTECT, related_name="enforcement_actions"
    )
    # Set when an appeal overturned the action (a cap or suspension then ended at that moment).
    overturned_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="level_cap") | models.Q(cap_level__isnull=False),
                name="level_cap_has_a_level",
            ),
            # Removal is final: an organisation is removed once.
            models.UniqueConstraint(
                fields=["partner"], condition=models.Q(kind="removal"), name="one_removal_per_partner"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.partner} from {self.starts_at:%Y-%m-%d}"


class ViolationKind(models.TextChoices):
    LEAK = "leak", "Leak"
    ATTACKING_BEHAVIOUR = "attacking_behaviour", "Attacking behaviour"
    CONTRACT_BREACH = "contract_breach", "Contract breach"
    MISUSE = "misuse", "Misuse"
    OTHER = "other", "Other"


class ViolationSeverity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class ViolationStatus(models.TextChoices):
    REPORTED = "reported", "Reported"
    INVESTIGATING = "investigating", "Investigating"
    SUBSTANTIATED = "substantiated", "Substantiated"
    DISMISSED = "dismissed", "Dismissed"
    CLOSED = "closed", "Closed"


class Violation(ProtectedStateMixin, models.Model):
    """A suspected breach of the program's rules by a partner, with its evidence.
    reported -> investigating -> substantiated | dismissed -> closed."""

    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="violations")
    kind = models.CharField(max_length=30, choices=ViolationKind.choices)
    severity = models.CharField(max_length=20, choices=ViolationSeverity.choices)
    status = FSMField(choices=ViolationStatus.choices, default=ViolationStatus.REPORTED, protected=True)
    summary = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    # Advisory identifiers (FWN-...): compliance sits below advisories and does not reference its models.
    related_advisories = models.JSONField(default=list, blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-reported_at"]
        indexes = [models.Index(fields=["partner", "status"])]

    def __str__(self):
        return f"{self.get_kind_display()} by {self.partner} ({self.get_status_display()})"

    @transition(field=status, source=ViolationStatus.REPORTED, target=ViolationStatus.INVESTIGATING)
    def start_investigation(self):
        pass

    @transition(field=status, source=ViolationStatus.INVESTIGATING, target=ViolationStatus.SUBSTANTIATED)
    def substantiate(self):
        pass

    @transition(field=status, source=ViolationStatus.INVESTIGATING, target=ViolationStatus.DISMISSED)
    def dismiss(self):
        pass

    @transition(
        field=status, source=[ViolationStatus.SUBSTANTIATED, ViolationStatus.DISMISSED], target=ViolationStatus.CLOSED
    )
    def close(self):
        pass


def evidence_upload_path(instance, filename: str) -> str:
    # The stored name carries no part of the uploaded name: the original name is kept in the row.
    return f"evidence/{instance.violation_id}/{timezone.now():%Y%m%d%H%M%S}-{instance.sha256[:16]}"


class ViolationNote(models.Model):
    """One entry of a violation's investigation log, written by a compliance officer. Never changed."""

    violation = models.ForeignKey(Violation, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"Note on violation {self.violation_id} by {self.author}"


class EvidenceFile(models.Model):
    """A file attached to a violation as evidence, in private storage (no URL), with its size and SHA-256."""

    violation = models.ForeignKey(Violation, on_delete=models.PROTECT, related_name="evidence_files")
    original_name = models.CharField(max_length=255)
    description = models.CharField(max_length=300, blank=True)
    file = models.FileField(storage=private_storage, upload_to=evidence_upload_path, max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "pk"]

    def __str__(self):
        return f"{self.original_name} ({self.sha256[:12]})"


class AppealStatus(models.TextChoices):
    FILED = "filed", "Filed"
    UPHELD = "upheld", "Upheld"
    OVERTURNED = "overturned", "Overturned"


class Appeal(ProtectedStateMixin, models.Model):
    """A partner admin's written appeal against an enforcement action; a compliance officer upholds or overturns
    it. filed -> upheld | overturned."""

    action = models.ForeignKey("compliance.EnforcementAction", on_delete=models.PROTECT, related_name="appeals")
    statement = models.TextField()
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    filed_at = models.DateTimeField(default=timezone.now)
    status = FSMField(choices=AppealStatus.choices, default=AppealStatus.FILED, protected=True)
    decision = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-filed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["action"], condition=models.Q(status="filed"), name="one_pending_appeal_per_action"
            )
        ]

    def __str__(self):
        return f"Appeal against {self.action} ({self.get_status_display()})"

    @transition(field=status, source=AppealStatus.FILED, target=AppealStatus.UPHELD)
    def uphold(self):
        pass

    @transition(field=status, source=AppealStatus.FILED, target=AppealStatus.OVERTURNED)
    def overturn(self):
        pass


class PolicyLevelChange(models.Model):
    """What a jurisdiction policy changed for one organisation when it took effect: recorded once (unique per
    policy and organisation) by the task that re-evaluates every partner at the effective time."""

    policy = models.ForeignKey(JurisdictionPolicy, on_delete=models.PROTECT, related_name="level_changes")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="policy_level_changes")
    level_before = models.PositiveSmallIntegerField(choices=AccessLevel.choices)
    level_after = models.PositiveSmallIntegerField(choices=AccessLevel.choices)
    recorded_at = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-recorded_at"]
        constraints = [models.UniqueConstraint(fields=["policy", "partner"], name="one_level_change_per_policy")]

    def __str__(self):
        return f"{self.partner}: {self.get_level_before_display()} -> {self.get_level_after_display()}"


class ReviewStatus(models.TextChoices):
    OPEN = "open", "Open"
    COMPLETED = "completed", "Completed"


class ReviewOutcome(models.TextChoices):
    SATISFACTORY = "satisfactory", "Satisfactory"
    CONCERNS = "concerns", "Concerns noted"
    ACTION_REQUIRED = "action_required", "Action required"


class ComplianceReview(ProtectedStateMixin, models.Model):
    """The periodic review of one organisation. open -> completed; at most one open review per organisation."""

    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="compliance_reviews")
    due_at = models.DateTimeField()
    opened_at = models.DateTimeField(default=timezone.now)
    status = FSMField(choices=ReviewStatus.choices, default=ReviewStatus.OPEN, protected=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    findings = models.TextField(blank=True)
    outcome = models.CharField(max_length=20, choices=ReviewOutcome.choices, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(fields=["partner"], condition=models.Q(status="open"), name="one_open_review")
        ]
        indexes = [models.Index(fields=["status", "due_at"])]

    def __str__(self):
        return f"Review of {self.partner} due {self.due_at:%Y-%m-%d}"

    @transition(field=status, source=ReviewStatus.OPEN, target=ReviewStatus.COMPLETED)
    def complete(self):
        pass
