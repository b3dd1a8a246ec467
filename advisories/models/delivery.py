"""What partners received and did with it: deliveries, accesses (views, downloads, exports), handling
acknowledgements and dashboard visits."""

from django.conf import settings
from django.db import models

from advisories.models.advisory import TLP, Advisory
from advisories.models.artifacts import Artifact
from advisories.models.release import WAVE_LEVELS, ReleaseCohort, ReleaseWave


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


class PortalVisit(models.Model):
    """When a partner user last looked at their dashboard: what arrived after it is shown as new."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_visit")
    seen_at = models.DateTimeField()

    def __str__(self):
        return f"{self.user} saw the dashboard at {self.seen_at:%Y-%m-%d %H:%M} UTC"
