from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django_countries.fields import CountryField
from django_fsm import FSMField, transition

from core.levels import AccessLevel
from core.models import ProtectedStateMixin


class PartnerStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    REMOVED = "removed", "Removed"


class Partner(ProtectedStateMixin, models.Model):
    """A vetted security vendor organisation. Its members share one auth Group, which holds its object
    permissions (what was released to it)."""

    legal_name = models.CharField(max_length=200, unique=True)
    trading_name = models.CharField(max_length=200, blank=True)
    country = CountryField()
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="partner")
    status = FSMField(choices=PartnerStatus.choices, default=PartnerStatus.ACTIVE, protected=True)
    assigned_level = models.PositiveSmallIntegerField(
        choices=AccessLevel.choices,
        default=AccessLevel.GENERIC,
        help_text="The level the program assigned; contracts, jurisdiction and enforcement may cap it lower.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["legal_name"]
        indexes = [models.Index(fields=["status", "country"])]

    def __str__(self):
        return self.trading_name or self.legal_name

    @transition(field=status, source=PartnerStatus.ACTIVE, target=PartnerStatus.SUSPENDED)
    def suspend(self):
        pass

    @transition(field=status, source=PartnerStatus.SUSPENDED, target=PartnerStatus.ACTIVE)
    def reinstate(self):
        pass

    @transition(field=status, source=[PartnerStatus.ACTIVE, PartnerStatus.SUSPENDED], target=PartnerStatus.REMOVED)
    def remove(self):
        pass


class MemberRole(models.TextChoices):
    ADMIN = "admin", "Partner admin"
    ANALYST = "analyst", "Partner analyst"


class PartnerMembership(models.Model):
    """A person's place in one partner organisation. A user belongs to at most one organisation."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=MemberRole.choices, default=MemberRole.ANALYST)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["partner", "user__email"]
        indexes = [models.Index(fields=["partner", "is_active"])]

    def __str__(self):
        return f"{self.user} ({self.get_role_display()}, {self.partner})"
