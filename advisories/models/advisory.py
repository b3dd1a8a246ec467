"""An advisory: its identifier, CVE ids, CVSS score and TLP label, its status, and its written descriptions."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django_fsm import FSMField, transition

from advisories.validators import AffectedProduct, validate_cwe_id, validate_product_identifiers
from core.levels import AccessLevel
from core.models import ProtectedStateMixin


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
