"""Protection status and partner indicators: what receiving organisations report about the protections they
ship, their feedback and indicators, the reminders before public release, and the program's detection
indicators (advisories/protection/, advisories/stix/)."""

from django.conf import settings
from django.db import models
from django_fsm import FSMField, transition

from advisories.models.advisory import Advisory
from advisories.models.artifacts import ARTIFACT_LEVELS
from core.levels import AccessLevel
from core.models import ProtectedStateMixin


class ProtectionState(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    SHIPPED = "shipped", "Shipped"
    NOT_APPLICABLE = "not_applicable", "Not applicable"


class ProtectionStatus(ProtectedStateMixin, models.Model):
    """What one receiving organisation reports about the protections (signatures, detections, IPS rules) it ships
    for one advisory. Transitions (any other is refused):

        not_started -> in_progress -> shipped
        not_started -> shipped                      (a protection ready at once: one report, not two)
        not_started | in_progress -> not_applicable

    `shipped` and `not_applicable` are final; the products, signature ids and notes stay editable."""

    STATE_FIELDS = ("state",)

    advisory = models.ForeignKey(Advisory, on_delete=models.PROTECT, related_name="protection_statuses")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="protection_statuses")
    state = FSMField(choices=ProtectionState.choices, default=ProtectionState.NOT_STARTED, protected=True)
    products = models.TextField(blank=True, help_text="Product(s) and version(s) that carry the protection.")
    signature_ids = models.TextField(blank=True, help_text="Signature, rule or detection ids, one per line.")
    shipped_at = models.DateTimeField(null=True, blank=True, help_text="UTC. When the protection reached customers.")
    notes = models.TextField(blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["advisory", "partner"]
        verbose_name_plural = "protection statuses"
        constraints = [
            models.UniqueConstraint(fields=["advisory", "partner"], name="one_protection_status_per_partner"),
            models.CheckConstraint(
                condition=~models.Q(state="shipped") | models.Q(shipped_at__isnull=False),
                name="shipped_protection_has_shipped_at",
            ),
        ]

    def __str__(self):
        return f"{self.advisory.identifier} {self.partner}: {self.get_state_display()}"

    @transition(field=state, source=ProtectionState.NOT_STARTED, target=ProtectionState.IN_PROGRESS)
    def start(self):
        pass

    @transition(
        field=state, source=[ProtectionState.NOT_STARTED, ProtectionState.IN_PROGRESS], target=ProtectionState.SHIPPED
    )
    def ship(self):
        pass

    @transition(
        field=state,
        source=[ProtectionState.NOT_STARTED, ProtectionState.IN_PROGRESS],
        target=ProtectionState.NOT_APPLICABLE,
    )
    def mark_not_applicable(self):
        pass


# Which transition leads to each target state (the services call them by target).
PROTECTION_TRANSITIONS = {
    ProtectionState.IN_PROGRESS: "start",
    ProtectionState.SHIPPED: "ship",
    ProtectionState.NOT_APPLICABLE: "mark_not_applicable",
}


class FeedbackKind(models.TextChoices):
    FALSE_POSITIVE = "false_positive", "False positive"
    DETECTION_QUALITY = "detection_quality", "Detection quality"
    QUESTION = "question", "Question"
    OTHER = "other", "Other"


class ProtectionFeedback(models.Model):
    """A receiving organisation's feedback to the program about an advisory's detection content."""

    advisory = models.ForeignKey(Advisory, on_delete=models.PROTECT, related_name="protection_feedback")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=30, choices=FeedbackKind.choices)
    text = models.TextField(max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "protection feedback"

    def __str__(self):
        return f"{self.advisory.identifier} {self.partner}: {self.get_kind_display()}"


class IndicatorType(models.TextChoices):
    IP = "ip", "IP address"
    DOMAIN = "domain", "Domain name"
    URL = "url", "URL"
    SHA256 = "sha256", "SHA-256"
    MD5 = "md5", "MD5"
    YARA_RULE = "yara_rule", "YARA rule name"
    CVE = "cve", "CVE id"
    OTHER = "other", "Other"


class Confidence(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class PartnerIndicator(models.Model):
    """An indicator or telemetry a receiving organisation observed in the wild for an advisory (give-to-get):
    for program managers, and evidence in leak investigations (e.g. exploitation seen before public release).
    `value` is stored normalised (advisories.validators.normalise_indicator)."""

    advisory = models.ForeignKey(Advisory, on_delete=models.PROTECT, related_name="partner_indicators")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    api_token = models.ForeignKey(
        "partners.ApiToken", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    indicator_type = models.CharField(max_length=20, choices=IndicatorType.choices)
    value = models.CharField(max_length=2048)
    first_seen = models.DateTimeField(help_text="UTC. When the organisation first observed it.")
    confidence = models.CharField(max_length=10, choices=Confidence.choices)
    comment = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["first_seen", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["advisory", "partner", "indicator_type", "value"], name="one_indicator_per_partner_and_value"
            )
        ]
        indexes = [models.Index(fields=["advisory", "first_seen"])]

    def __str__(self):
        return f"{self.advisory.identifier} {self.get_indicator_type_display()} {self.value[:80]}"


class ProtectionReminder(models.Model):
    """The reminder sent to an organisation that had not reported on an advisory shortly before its public release:
    one row per advisory and organisation (database constraint), so the reminder goes out exactly once."""

    advisory = models.ForeignKey(Advisory, on_delete=models.PROTECT, related_name="protection_reminders")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["advisory", "partner"], name="one_protection_reminder_per_partner")
        ]
        indexes = [models.Index(fields=["sent_at"])]

    def __str__(self):
        return f"Protection reminder for {self.advisory.identifier} to {self.partner}"


class DetectionIndicator(models.Model):
    """An indicator of compromise or exploitation the program publishes with an advisory (detection guidance),
    for partners of `level` and above. Partners read them, with their own submitted indicators, as a STIX 2.1
    bundle. A partner sees those up to the level it was delivered and is still entitled to (advisories/stix/).
    `value` is stored normalised (advisories.validators.normalise_indicator)."""

    advisory = models.ForeignKey(Advisory, on_delete=models.CASCADE, related_name="detection_indicators")
    level = models.PositiveSmallIntegerField(choices=ARTIFACT_LEVELS, default=AccessLevel.STANDARD)
    indicator_type = models.CharField(max_length=20, choices=IndicatorType.choices)
    value = models.CharField(max_length=2048)
    description = models.TextField(blank=True, max_length=2000)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["level", "indicator_type", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["advisory", "indicator_type", "value"], name="one_detection_indicator_per_value"
            )
        ]

    def __str__(self):
        return f"{self.advisory.identifier} {self.get_indicator_type_display()} {self.value[:80]}"
