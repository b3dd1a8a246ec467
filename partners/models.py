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
    suspended_until = models.DateTimeField(
        null=True, blank=True, help_text="UTC. A timed suspension ends at this instant (a beat task reinstates)."
    )
    seat_limit = models.PositiveSmallIntegerField(
        default=10, help_text="How many people (active members and pending invitations) the organisation may have."
    )

    class Meta:
        ordering = ["legal_name"]
        indexes = [models.Index(fields=["status", "country"]), models.Index(fields=["status", "suspended_until"])]

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


class PartnerDomain(models.Model):
    """An email domain registered to a partner organisation: colleagues may only be invited on these domains."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253, db_index=True)

    class Meta:
        ordering = ["domain"]
        constraints = [models.UniqueConstraint(fields=["partner", "domain"], name="unique_partner_domain")]

    def __str__(self):
        return self.domain


class InvitationQuerySet(models.QuerySet):
    def open(self):
        """Invitations neither accepted nor withdrawn (expired or not)."""
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True)

    def pending(self, at):
        """Invitations that can still be accepted at `at` (and so hold a seat)."""
        return self.open().filter(expires_at__gt=at)


class Invitation(models.Model):
    """A single-use, expiring invitation for one email address to join a partner organisation. The link carries a
    signed token naming the invitation and its nonce; the row decides whether it may still be used."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=MemberRole.choices, default=MemberRole.ANALYST)
    nonce = models.CharField(max_length=64, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["partner", "email"])]
        constraints = [
            # One open invitation per address and organisation (an expired one is closed when the address is
            # invited again), so that concurrent invitations cannot hold two seats for one person.
            models.UniqueConstraint(
                fields=["partner", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_open_invitation_per_address",
            )
        ]

    def __str__(self):
        return f"Invitation of {self.email} to {self.partner}"

    def state(self, at) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        return "expired" if at >= self.expires_at else "pending"


class ApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted (email not verified)"
    EMAIL_VERIFIED = "email_verified", "Email verified"
    UNDER_REVIEW = "under_review", "Under review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


OPEN_APPLICATION_STATES = (
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.EMAIL_VERIFIED,
    ApplicationStatus.UNDER_REVIEW,
)

# The due-diligence checklist a reviewer completes before an application can be approved.
DUE_DILIGENCE_CHECKLIST = {
    "identity": "Organisation identity confirmed in a company register",
    "website_and_domains": "Website and email domains belong to the organisation",
    "security_contact": "Security contact reached and confirmed",
    "ownership": "Ownership and parent company checked",
    "government_affiliations": "Government affiliations and reporting duties reviewed",
    "products": "Products and customer base confirm a security vendor",
}


class PartnerApplication(ProtectedStateMixin, models.Model):
    """An organisation's application to join the program, from submission to a decision (docs/design.md's state
    machine: submitted -> email_verified -> under_review -> approved | rejected)."""

    legal_name = models.CharField(max_length=200)
    trading_name = models.CharField(max_length=200, blank=True)
    country = CountryField()
    website = models.URLField(max_length=300)
    email_domains = models.JSONField(default=list, help_text="Registered email domains, lower case.")
    products = models.TextField(help_text="The security products the organisation makes.")
    customer_base = models.TextField(help_text="Who the customers are, and where.")
    ownership = models.TextField(help_text="Who owns the organisation.")
    parent_company = models.CharField(max_length=200, blank=True)
    government_affiliations = models.TextField(
        blank=True, help_text="e.g. membership of a national vulnerability database, government shareholders."
    )
    reporting_duty = models.BooleanField(
        default=False, help_text="A law obliges the organisation to report vulnerabilities to a government."
    )
    reporting_duty_details = models.TextField(blank=True)
    security_contact_name = models.CharField(max_length=200)
    security_contact_email = models.EmailField()
    applicant_name = models.CharField(max_length=200)
    applicant_email = models.EmailField(help_text="Becomes the organisation's first partner admin.")

    status = FSMField(choices=ApplicationStatus.choices, default=ApplicationStatus.SUBMITTED, protected=True)
    submitted_at = models.DateTimeField()
    submitted_ip = models.GenericIPAddressField(null=True, blank=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_started_at = models.DateTimeField(null=True, blank=True)
    checklist = models.JSONField(default=dict, blank=True, help_text="Due-diligence item -> who ticked it, when.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    assigned_level = models.PositiveSmallIntegerField(choices=AccessLevel.choices, null=True, blank=True)
    partner = models.OneToOneField(Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="application")

    class Meta:
        ordering = ["-submitted_at"]
        indexes = [models.Index(fields=["status", "submitted_at"]), models.Index(fields=["submitted_ip"])]

    def __str__(self):
        return f"Application of {self.legal_name}"

    @transition(field=status, source=ApplicationStatus.SUBMITTED, target=ApplicationStatus.EMAIL_VERIFIED)
    def verify_email(self):
        pass

    @transition(field=status, source=ApplicationStatus.EMAIL_VERIFIED, target=ApplicationStatus.UNDER_REVIEW)
    def start_review(self):
        pass

    @transition(field=status, source=ApplicationStatus.UNDER_REVIEW, target=ApplicationStatus.APPROVED)
    def approve(self):
        pass

    @transition(field=status, source=ApplicationStatus.UNDER_REVIEW, target=ApplicationStatus.REJECTED)
    def reject(self):
        pass

    @property
    def checklist_complete(self) -> bool:
        return all(self.checklist.get(key) for key in DUE_DILIGENCE_CHECKLIST)


class ApplicationNote(models.Model):
    """A reviewer's note on an application; kept with it for the record."""

    application = models.ForeignKey(PartnerApplication, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"Note by {self.author} on {self.application}"


class ApiTokenScope(models.TextChoices):
    READ = "read", "Read only"
    # Read, and report protection status and indicators for advisories received (docs/api.md).
    REPORT = "report", "Read and report protection status"


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
