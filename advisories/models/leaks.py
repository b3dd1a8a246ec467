"""Leak investigations and the leaked samples traced in them."""

from django.conf import settings
from django.db import models

from advisories.models.advisory import Advisory


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
