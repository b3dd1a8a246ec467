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


class ApiTokenScope(models.TextChoices):
    READ = "read", "Read only"


class ApiToken(models.Model):
    """A partner organisation's credential for the REST API. Only the SHA-256 of the secret is stored; the secret is
    shown once, when the token is created. A token acts with the access of its organisation, and only while the
    partner admin who created it is still an active member (compliance.entitlements.token_access decides)."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False, help_text="Shown to tell tokens apart.")
    secret_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    scope = models.CharField(max_length=20, choices=ApiTokenScope.choices, default=ApiTokenScope.READ)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(help_text="UTC. The token is refused from this instant.")
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["partner", "revoked_at"])]

    def __str__(self):
        return f"{self.name} ({self.prefix}…, {self.partner})"

    def is_usable_at(self, at) -> bool:
        """Not revoked and not expired at `at`; the organisation's standing is checked by the entitlement rule."""
        return self.revoked_at is None and at < self.expires_at
