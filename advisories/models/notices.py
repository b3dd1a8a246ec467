"""Partner users' inbox notices and how they want them by email."""

from django.conf import settings
from django.db import models

from advisories.models.advisory import Advisory
from advisories.models.release import ReleaseWave
from core.levels import AccessLevel


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
