from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django_fsm import FSMField, transition
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from advisories.validators import AffectedProduct, validate_cwe_id, validate_product_identifiers
from core.levels import AccessLevel
from core.models import ProtectedStateMixin
from core.storage import private_storage


class TLP(models.TextChoices):
    """FIRST Traffic Light Protocol 2.0."""

    CLEAR = "CLEAR", "TLP:CLEAR"
    GREEN = "GREEN", "TLP:GREEN"
    AMBER = "AMBER", "TLP:AMBER"
    AMBER_STRICT = "AMBER+STRICT", "TLP:AMBER+STRICT"
    RED = "RED", "TLP:RED"


class Severity(models.TextChoices):
    """CVSS v3.1 qualitative severity of the base score."""

    NONE = "none", "None"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


# Inclusive score bounds of each severity (CVSS v3.1 specification, section 5).
SEVERITY_SCORE_RANGES = {
    Severity.NONE: (Decimal("0.0"), Decimal("0.0")),
    Severity.LOW: (Decimal("0.1"), Decimal("3.9")),
    Severity.MEDIUM: (Decimal("4.0"), Decimal("6.9")),
    Severity.HIGH: (Decimal("7.0"), Decimal("8.9")),
    Severity.CRITICAL: (Decimal("9.0"), Decimal("10.0")),
}


def severity_for_score(score: Decimal | None) -> Severity | None:
    if score is None:
        return None
    for severity, (low, high) in SEVERITY_SCORE_RANGES.items():
        if low <= score <= high:
            return severity
    return None


class AdvisoryStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    RELEASED = "released", "Released to partners"
    PUBLIC = "public", "Public"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Advisory(ProtectedStateMixin, models.Model):
    identifier = models.CharField(
        max_length=20,
        unique=True,
        editable=False,
        validators=[RegexValidator(r"^FWN-\d{4}-\d{4,}$", "Identifiers look like FWN-2026-0001.")],
    )
    title = models.CharField(max_length=300)
    cve_ids = models.JSONField(default=list, blank=True, help_text='e.g. ["CVE-2026-12345"]')
    affected_products = models.TextField(blank=True)
    product_identifiers = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_product_identifiers],
        help_text='CPE and PURL of affected products, by product name: {"Widget 4": {"cpe": "cpe:2.3:...", '
        '"purl": "pkg:..."}}',
    )
    cwe_id = models.CharField(
        "CWE", max_length=20, blank=True, validators=[validate_cwe_id], help_text="The weakness, e.g. CWE-787."
    )
    cvss_vector = models.CharField(max_length=200, blank=True)
    cvss_score = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    tlp = models.CharField(max_length=20, choices=TLP.choices, default=TLP.AMBER)
    public_release_at = models.DateTimeField(help_text="UTC. The generic wave releases at this instant.")
    status = FSMField(choices=AdvisoryStatus.choices, default=AdvisoryStatus.DRAFT, protected=True)
    # Off by default: look-alike letters make copies unsearchable (docs/fingerprinting.md, "The letter layer").
    fingerprint_letters = models.BooleanField(
        default=False,
        verbose_name="Add look-alike letters to every copy",
        help_text=(
            "Strengthens tracing of short excerpts copied as they are, but about 7% of the letters of every copy "
            "become Cyrillic twins: searching partners' copies, grep, signature tools, ticketing systems fed from "
            "the API and screen readers stop finding the words. A leaker who folds look-alikes removes them."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-public_release_at", "-id"]
        verbose_name_plural = "advisories"
        permissions = [
            ("receive_advisory", "Released to the holder through a release wave"),
            ("edit_advisory", "Assigned program manager: may open and edit the advisory before its release"),
        ]

    def __str__(self):
        # The identifier alone: the title is need-to-know before release (advisories.need_to_know), and str() ends
        # up in admin lists, select boxes and audit labels that do not check who is looking.
        return self.identifier

    @property
    def cvss_severity(self) -> str:
        """The CVSS v3.1 qualitative rating of the base score (specification section 5)."""
        if self.cvss_score is None:
            return ""
        for floor, rating in ((9, "Critical"), (7, "High"), (4, "Medium"), (0.1, "Low")):
            if self.cvss_score >= floor:
                return rating
        return "None"

    @property
    def severity(self) -> Severity | None:
        return severity_for_score(self.cvss_score)

    @property
    def product_names(self) -> list[str]:
        """The affected products, one per line of `affected_products`."""
        return [line.strip() for line in self.affected_products.splitlines() if line.strip()]

    @property
    def affected_product_list(self) -> list[AffectedProduct]:
        """The affected products with their CPE and PURL, in the order written."""
        identifiers = self.product_identifiers or {}
        return [AffectedProduct(name=name, identifiers=identifiers.get(name, {})) for name in self.product_names]

    def clean(self):
        unknown = set(self.product_identifiers or {}) - set(self.product_names)
        if unknown:
            raise ValidationError({"product_identifiers": f"Not an affected product: {', '.join(sorted(unknown))}."})

    @transition(field=status, source=AdvisoryStatus.DRAFT, target=AdvisoryStatus.SCHEDULED)
    def schedule(self):
        pass

    @transition(field=status, source=AdvisoryStatus.SCHEDULED, target=AdvisoryStatus.DRAFT)
    def unschedule(self):
        pass

    @transition(field=status, source=AdvisoryStatus.SCHEDULED, target=AdvisoryStatus.RELEASED)
    def mark_released(self):
        pass

    @transition(field=status, source=AdvisoryStatus.RELEASED, target=AdvisoryStatus.PUBLIC)
    def mark_public(self):
        pass

    @transition(
        field=status,
        source=[AdvisoryStatus.DRAFT, AdvisoryStatus.SCHEDULED, AdvisoryStatus.RELEASED, AdvisoryStatus.PUBLIC],
        target=AdvisoryStatus.WITHDRAWN,
    )
    def withdraw(self):
        pass


DOCUMENT_LEVELS = [(AccessLevel.GENERIC.value, "generic"), (AccessLevel.STANDARD.value, "standard")]
ARTIFACT_LEVELS = [(AccessLevel.STANDARD.value, "standard"), (AccessLevel.EARLY.value, "early")]
WAVE_LEVELS = [(level.value, level.label) for level in AccessLevel if level != AccessLevel.NONE]


class AdvisoryDocument(models.Model):
    """A written description: `generic` (for everyone at public release) or `standard` (technical details and
    detection guidance)."""

    advisory = models.ForeignKey(Advisory, on_delete=models.CASCADE, related_name="documents")
    level = models.PositiveSmallIntegerField(choices=DOCUMENT_LEVELS)
    title = models.CharField(max_length=300)
    body_markdown = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["level"]
        permissions = [("receive_advisorydocument", "Released to the holder through a release wave")]
        constraints = [models.UniqueConstraint(fields=["advisory", "level"], name="one_document_per_level")]

    def __str__(self):
        return f"{self.advisory.identifier} {self.get_level_display()} description"


def artifact_upload_path(artifact, filename):
    return f"artifacts/{artifact.advisory.identifier}/{filename}"


class Artifact(models.Model):
    """A file for partners: detection rules, IOCs (standard) or proof-of-concept code (early). Kept in private
    storage and served only by an authorised view."""

    advisory = models.ForeignKey(Advisory, on_delete=models.CASCADE, related_name="artifacts")
    level = models.PositiveSmallIntegerField(choices=ARTIFACT_LEVELS)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    file = models.FileField(storage=private_storage, upload_to=artifact_upload_path)
    content_type = models.CharField(max_length=100, default="application/octet-stream")
    size = models.PositiveBigIntegerField(editable=False)
    sha256 = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["level", "name"]
        permissions = [("receive_artifact", "Released to the holder through a release wave")]

    def __str__(self):
        return f"{self.advisory.identifier} {self.name}"


class WaveStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    RELEASED = "released", "Released"
    CANCELLED = "cancelled", "Cancelled"


class ReleaseWave(ProtectedStateMixin, models.Model):
    """When the advisory's content of one level goes out to the partners entitled to that level."""

    advisory = models.ForeignKey(Advisory, on_delete=models.CASCADE, related_name="waves")
    level = models.PositiveSmallIntegerField(choices=WAVE_LEVELS)
    scheduled_at = models.DateTimeField(help_text="UTC.")
    status = FSMField(choices=WaveStatus.choices, default=WaveStatus.SCHEDULED, protected=True)
    released_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["scheduled_at", "-level"]
        constraints = [models.UniqueConstraint(fields=["advisory", "level"], name="one_wave_per_level")]
        indexes = [models.Index(fields=["status", "scheduled_at"])]

    def __str__(self):
        return f"{self.advisory.identifier} {self.get_level_display()} wave at {self.scheduled_at:%Y-%m-%d %H:%M} UTC"

    @transition(field=status, source=WaveStatus.SCHEDULED, target=WaveStatus.RELEASED)
    def mark_released(self):
        pass

    @transition(field=status, source=WaveStatus.SCHEDULED, target=WaveStatus.CANCELLED)
    def cancel(self):
        pass

    @transition(field=status, source=WaveStatus.CANCELLED, target=WaveStatus.SCHEDULED)
    def reschedule(self):
        pass

    def clean(self):
        if self.pk and self.status != WaveStatus.SCHEDULED:
            stored = ReleaseWave.objects.filter(pk=self.pk).values_list("scheduled_at", flat=True).first()
            if stored is not None and stored != self.scheduled_at:
                raise ValidationError({"scheduled_at": "A released or cancelled wave's time can no longer change."})


class ReleaseCohort(models.Model):
    """Part of a level's wave released later than the wave itself: its partners receive the wave at the cohort's
    time instead. Staggering narrows the suspects of a leak to the cohorts that already held the advisory when the
    leak was observed. Partners in no cohort of the wave receive it at the wave's time."""

    wave = models.ForeignKey(ReleaseWave, on_delete=models.CASCADE, related_name="cohorts")
    name = models.CharField(max_length=100)
    scheduled_at = models.DateTimeField(help_text="UTC. After the wave's time, no later than the public release.")
    partners = models.ManyToManyField("partners.Partner", related_name="release_cohorts")
    released_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["scheduled_at", "pk"]
        indexes = [models.Index(fields=["released_at", "scheduled_at"])]

    def __str__(self):
        return f"{self.wave}, cohort {self.name} at {self.scheduled_at:%Y-%m-%d %H:%M} UTC"


class Delivery(models.Model):
    """One organisation's receipt of one wave, with the secret token its served copies are fingerprinted with."""

    wave = models.ForeignKey(ReleaseWave, on_delete=models.PROTECT, related_name="deliveries")
    advisory = models.ForeignKey(Advisory, on_delete=models.PROTECT, related_name="deliveries")
    # Indexed by the composite indexes below, which start with it.
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="deliveries", db_index=False)
    level = models.PositiveSmallIntegerField(choices=WAVE_LEVELS)
    # Unique through a constraint, not `unique=True`, which on PostgreSQL adds a second (LIKE) index of every token.
    fingerprint_token = models.CharField(max_length=64, editable=False)
    cohort = models.ForeignKey(
        ReleaseCohort, null=True, blank=True, on_delete=models.PROTECT, related_name="deliveries", editable=False
    )
    delivered_at = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-delivered_at"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["wave", "partner"], name="one_delivery_per_wave_and_partner"),
            models.UniqueConstraint(fields=["fingerprint_token"], name="unique_delivery_fingerprint_token"),
        ]
        indexes = [
            models.Index(fields=["partner", "advisory", "level"]),
            # A partner's advisory list, most recently delivered first, read in index order (bench/pages.py).
            models.Index(fields=["partner", "delivered_at", "advisory", "level"], name="delivery_partner_recent_idx"),
        ]

    def __str__(self):
        return f"{self.advisory.identifier} to {self.partner} ({self.get_level_display()})"


class AdvisoryCVE(models.Model):
    """One CVE id named by one advisory: the unique constraint keeps a CVE in at most one advisory, race-free.
    `Advisory.cve_ids` keeps the ordered list for display; the services keep both in step."""

    advisory = models.ForeignKey(Advisory, on_delete=models.CASCADE, related_name="cve_records")
    cve_id = models.CharField(max_length=30, unique=True)

    class Meta:
        ordering = ["cve_id"]
        verbose_name = "advisory CVE"

    def __str__(self):
        return f"{self.cve_id} in {self.advisory.identifier}"


class NoticeKind(models.TextChoices):
    RELEASED = "released", "Advisory released"
    WITHDRAWN = "withdrawn", "Advisory withdrawn"


class Notice(models.Model):
    """A message in a partner user's in-portal inbox. It names the advisory, never its content. One per user and
    wave for a release, one per user and advisory for a withdrawal (database constraints), so a retried task
    cannot notify twice."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    advisory = models.ForeignKey(Advisory, on_delete=models.PROTECT, related_name="notices")
    wave = models.ForeignKey(ReleaseWave, null=True, blank=True, on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(max_length=20, choices=NoticeKind.choices)
    level = models.PositiveSmallIntegerField(choices=AccessLevel.choices, default=AccessLevel.NONE)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "wave"],
                condition=models.Q(kind="released"),
                name="one_release_notice_per_user_and_wave",
            ),
            models.UniqueConstraint(
                fields=["user", "advisory"],
                condition=models.Q(kind="withdrawn"),
                name="one_withdrawal_notice_per_user_and_advisory",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "read_at"]),
            models.Index(fields=["emailed_at", "user"]),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.advisory.identifier} to {self.user}"


class EmailMode(models.TextChoices):
    IMMEDIATE = "immediate", "An email for each notice"
    DAILY = "daily", "One daily digest"
    NONE = "none", "No email (inbox only)"


class NoticePreference(models.Model):
    """How a partner user wants notices by email. Without a row: immediately."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_preference")
    email_mode = models.CharField(max_length=20, choices=EmailMode.choices, default=EmailMode.IMMEDIATE)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.user}: {self.get_email_mode_display()}"


class AccessKind(models.TextChoices):
    VIEW = "view", "Viewed advisory"
    DOWNLOAD = "download", "Downloaded file"
    CSAF = "csaf", "Exported CSAF document"
    STIX = "stix", "Exported STIX indicators"


class DownloadEvent(models.Model):
    """Every view of an advisory page, every file download and every CSAF or STIX export by a partner user, in the
    portal, through the API or the CSAF provider directory (then with the token used)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="download_events")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="download_events")
    advisory = models.ForeignKey(Advisory, on_delete=models.PROTECT, related_name="download_events")
    artifact = models.ForeignKey(Artifact, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    delivery = models.ForeignKey(Delivery, null=True, on_delete=models.PROTECT, related_name="download_events")
    kind = models.CharField(max_length=20, choices=AccessKind.choices)
    api_token = models.ForeignKey(
        "partners.ApiToken",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="download_events",
        help_text="Set when the access went through the partner API with this token.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["advisory", "partner", "created_at"])]

    def __str__(self):
        return f"{self.user} {self.get_kind_display()} {self.advisory.identifier} at {self.created_at:%Y-%m-%d %H:%M}"


class HandlingAcknowledgement(models.Model):
    """A partner user's one-time acknowledgement of an advisory's TLP label and handling terms, given before they
    first open it. Kept with the label acknowledged, the time and the address, for the distribution record."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    advisory = models.ForeignKey(Advisory, on_delete=models.PROTECT, related_name="handling_acknowledgements")
    tlp = models.CharField(max_length=20, choices=TLP.choices, help_text="The label acknowledged.")
    acknowledged_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-acknowledged_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "advisory"], name="one_handling_acknowledgement_per_user")
        ]

    def __str__(self):
        return f"{self.user} acknowledged {self.get_tlp_display()} for {self.advisory.identifier}"


class LeakIncident(models.Model):
    """A leak investigation: an advisory's content (or its exploitation) was observed outside the program at
    `observed_at`. Its exposure report and the traces of its samples name the suspects."""

    advisory = models.ForeignKey(Advisory, on_delete=models.PROTECT, related_name="leak_incidents")
    observed_at = models.DateTimeField(help_text="UTC. When exploitation or the leak was first observed.")
    description = models.TextField()
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)
    violations = models.ManyToManyField("compliance.Violation", blank=True, related_name="leak_incidents")

    class Meta:
        ordering = ["-observed_at", "-id"]

    def __str__(self):
        return f"Leak of {self.advisory.identifier} observed {self.observed_at:%Y-%m-%d %H:%M} UTC"


class LeakSample(models.Model):
    """A leaked text (pasted or uploaded) and the result of tracing it against the advisory's served copies."""

    incident = models.ForeignKey(LeakIncident, on_delete=models.CASCADE, related_name="samples")
    text = models.TextField()
    source = models.CharField(max_length=300, blank=True, help_text="Where it was found, or the uploaded file name.")
    trace_result = models.JSONField(default=dict, editable=False)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["submitted_at", "id"]

    def __str__(self):
        return f"Sample {self.pk} of {self.incident}"


# Direct foreign-key object permission tables (django-guardian): fast joins and no orphans on pk reuse.
class AdvisoryUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Advisory, on_delete=models.CASCADE)


class AdvisoryGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Advisory, on_delete=models.CASCADE)


class AdvisoryDocumentUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(AdvisoryDocument, on_delete=models.CASCADE)


class AdvisoryDocumentGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(AdvisoryDocument, on_delete=models.CASCADE)


class ArtifactUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Artifact, on_delete=models.CASCADE)


class ArtifactGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Artifact, on_delete=models.CASCADE)


# Protection status and partner indicators (issue 13) -------------------------------------------------------------


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


class PortalVisit(models.Model):
    """When a partner user last looked at their dashboard: what arrived after it is shown as new."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_visit")
    seen_at = models.DateTimeField()

    def __str__(self):
        return f"{self.user} saw the dashboard at {self.seen_at:%Y-%m-%d %H:%M} UTC"


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


# Signed webhooks (advisories/webhooks/, docs/api.md) -------------------------------------------------------------


class WebhookEndpoint(models.Model):
    """An HTTPS address of a partner organisation that receives signed events (Standard Webhooks). The secret signs
    (HMAC-SHA256), so it is stored as it is shown, once, to the admin who creates or rotates it; after a rotation
    the previous secret also signs until `previous_secret_expires_at` (a second signature in the header)."""

    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=100, blank=True)
    secret = models.CharField(max_length=80, editable=False)
    previous_secret = models.CharField(max_length=80, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["partner", "is_active"])]

    def __str__(self):
        return f"{self.partner}: {self.url}"


class WebhookEventType(models.TextChoices):
    DELIVERED = "advisory.delivered", "Advisory delivered"
    UPDATED = "advisory.updated", "Advisory changed"
    WITHDRAWN = "advisory.withdrawn", "Advisory withdrawn"
    PUBLISHED = "advisory.published", "Advisory public"
    TEST = "webhook.test", "Test event"


class WebhookMessageStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class WebhookMessage(models.Model):
    """The outbox: one event for one endpoint. `event_key` names the change (a delivery, an audited change, a
    publication), so that queueing it again creates nothing; `webhook_id` is the idempotency key the receiver sees,
    the same on every attempt."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="messages")
    event_key = models.CharField(max_length=100)
    webhook_id = models.CharField(max_length=40, editable=False)
    event_type = models.CharField(max_length=30, choices=WebhookEventType.choices)
    payload = models.JSONField()
    status = models.CharField(max_length=20, choices=WebhookMessageStatus.choices, default=WebhookMessageStatus.PENDING)
    attempt_count = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_key"], name="one_webhook_message_per_event"),
            models.UniqueConstraint(fields=["webhook_id"], name="unique_webhook_id"),
        ]
        indexes = [models.Index(fields=["endpoint", "created_at"])]

    def __str__(self):
        return f"{self.webhook_id} {self.event_type} to {self.endpoint_id}"


class WebhookAttempt(models.Model):
    """One HTTP attempt to send a message: the response's status code (none when no response came), how long it
    took, and the error."""

    message = models.ForeignKey(WebhookMessage, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["message", "number"], name="one_webhook_attempt_per_number")]

    def __str__(self):
        return f"attempt {self.number} of {self.message_id}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
