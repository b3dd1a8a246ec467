"""The release plan: one wave per level, and the cohorts that split a wave."""

from django.core.exceptions import ValidationError
from django.db import models
from django_fsm import FSMField, transition

from advisories.models.advisory import Advisory
from core.levels import AccessLevel
from core.models import ProtectedStateMixin

WAVE_LEVELS = [(level.value, level.label) for level in AccessLevel if level != AccessLevel.NONE]


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
