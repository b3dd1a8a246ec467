from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.utils import timezone

from advisories.models import Advisory, AdvisoryDocument, AdvisoryStatus, Artifact, ReleaseWave
from compliance.models import Agreement, ContractVersion, EnforcementAction, EnforcementKind, JurisdictionPolicy
from core.levels import AccessLevel
from core.roles import PROGRAM_MANAGERS
from partners.models import MemberRole, Partner, PartnerMembership


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["email"]

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    password = factory.django.Password("correct horse battery staple")


class ProgramManagerFactory(UserFactory):
    class Meta:
        skip_postgeneration_save = True

    is_staff = True

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        self.groups.add(Group.objects.get_or_create(name=PROGRAM_MANAGERS)[0])


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    legal_name = factory.Sequence(lambda n: f"Partner {n} Security Ltd")
    country = "US"
    assigned_level = AccessLevel.EARLY
    group = factory.LazyAttribute(lambda partner: Group.objects.create(name=f"partner:{partner.legal_name}"))


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerMembership

    user = factory.SubFactory(UserFactory)
    partner = factory.SubFactory(PartnerFactory)
    role = MemberRole.ANALYST


class ContractVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContractVersion

    contract_key = "nda"
    title = "Partner Program NDA"
    version = 1
    text = "The partner keeps advisories confidential until public release."
    effective_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=365))
    required_from_level = AccessLevel.GENERIC


class AgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agreement

    partner = factory.SubFactory(PartnerFactory)
    contract_version = factory.SubFactory(ContractVersionFactory)
    signer_name = "Alex Signer"
    signer_title = "CISO"
    signed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=30))
    valid_until = factory.LazyAttribute(lambda agreement: agreement.signed_at + timedelta(days=365))
    signed_text_sha256 = factory.LazyAttribute(lambda agreement: agreement.contract_version.text_sha256)


class JurisdictionPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JurisdictionPolicy

    country = "CN"
    cap_level = AccessLevel.GENERIC
    effective_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=30))
    reason = "Law requires reporting vulnerabilities to the government."


class LevelCapFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EnforcementAction

    partner = factory.SubFactory(PartnerFactory)
    kind = EnforcementKind.LEVEL_CAP
    cap_level = AccessLevel.STANDARD
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    reason = "PoC misuse: no PoC for six months."


class AdvisoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Advisory

    identifier = factory.Sequence(lambda n: f"FWN-2026-{n + 1:04d}")
    title = factory.Sequence(lambda n: f"Remote code execution in Product {n}")
    cve_ids = factory.Sequence(lambda n: [f"CVE-2026-{n + 10000}"])
    public_release_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    status = AdvisoryStatus.SCHEDULED


class DocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdvisoryDocument

    advisory = factory.SubFactory(AdvisoryFactory)
    level = AccessLevel.GENERIC
    title = factory.LazyAttribute(lambda d: f"{AccessLevel(d.level).label} description")
    body_markdown = factory.LazyAttribute(lambda d: f"The {AccessLevel(d.level).label} description of the flaw.")


class ArtifactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Artifact

    advisory = factory.SubFactory(AdvisoryFactory)
    level = AccessLevel.STANDARD
    name = "Detection rule"
    file = factory.LazyAttribute(lambda a: ContentFile(a.content, name=a.filename))
    content_type = "text/plain"
    size = factory.LazyAttribute(lambda a: len(a.content))
    sha256 = factory.LazyAttribute(lambda a: __import__("hashlib").sha256(a.content).hexdigest())

    class Params:
        content = b'rule demo { strings: $a = "x" condition: $a }\n'
        filename = "detection.yar"


class WaveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReleaseWave

    advisory = factory.SubFactory(AdvisoryFactory)
    level = AccessLevel.EARLY
    scheduled_at = factory.LazyFunction(lambda: timezone.now() - timedelta(seconds=1))


class HandlingAcknowledgementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "advisories.HandlingAcknowledgement"

    user = factory.SubFactory(UserFactory)
    partner = factory.LazyAttribute(lambda a: a.user.membership.partner)
    advisory = factory.SubFactory(AdvisoryFactory)
    tlp = factory.LazyAttribute(lambda a: a.advisory.tlp)
    acknowledged_at = factory.LazyFunction(timezone.now)


def acknowledge_handling_for_every_member(advisory):
    """Every current partner member acknowledges the advisory's handling terms (for tests about something else)."""
    for membership in PartnerMembership.objects.select_related("user"):
        HandlingAcknowledgementFactory(user=membership.user, partner=membership.partner, advisory=advisory)


class AgreementReminderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "compliance.AgreementReminder"

    agreement = factory.SubFactory(AgreementFactory)
    kind = 30
    sent_at = factory.LazyFunction(timezone.now)


# Onboarding ----------------------------------------------------------------------------------------------------------


class PartnerDomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "partners.PartnerDomain"

    partner = factory.SubFactory(PartnerFactory)
    domain = factory.Sequence(lambda n: f"partner{n}.test")


class PartnerApplicationFactory(factory.django.DjangoModelFactory):
    """An application in any state (`status=`); verified by default, ready for the queue."""

    class Meta:
        model = "partners.PartnerApplication"

    legal_name = factory.Sequence(lambda n: f"Applicant {n} Security GmbH")
    country = "DE"
    website = factory.LazyAttribute(lambda a: f"https://{a.email_domains[0]}")
    email_domains = factory.Sequence(lambda n: [f"applicant{n}.test"])
    products = "Endpoint detection and response."
    customer_base = "Banks and hospitals in Europe."
    ownership = "Privately held by its founders."
    security_contact_name = "Sam Secure"
    security_contact_email = factory.LazyAttribute(lambda a: f"security@{a.email_domains[0]}")
    applicant_name = "Ada Applicant"
    applicant_email = factory.LazyAttribute(lambda a: f"ada@{a.email_domains[0]}")
    status = "email_verified"
    submitted_at = factory.LazyFunction(timezone.now)


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "partners.Invitation"

    partner = factory.SubFactory(PartnerFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.test")
    role = MemberRole.ANALYST
    nonce = factory.Sequence(lambda n: f"nonce-{n}")
    created_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda i: i.created_at + timedelta(days=7))


class ComplianceOfficerFactory(UserFactory):
    class Meta:
        skip_postgeneration_save = True

    is_staff = True

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        from core.roles import COMPLIANCE_OFFICERS

        self.groups.add(Group.objects.get_or_create(name=COMPLIANCE_OFFICERS)[0])


class DeliveryFactory(factory.django.DjangoModelFactory):
    """A delivery row made directly (history in the past); releases in tests go through the services."""

    class Meta:
        model = "advisories.Delivery"

    wave = factory.SubFactory(WaveFactory)
    advisory = factory.LazyAttribute(lambda d: d.wave.advisory)
    partner = factory.SubFactory(PartnerFactory)
    level = factory.LazyAttribute(lambda d: d.wave.level)
    fingerprint_token = factory.Sequence(lambda n: f"{n:064x}")
    delivered_at = factory.LazyFunction(timezone.now)


class ProtectionStatusFactory(factory.django.DjangoModelFactory):
    """A stored status in any state (history); changes in tests go through the services."""

    class Meta:
        model = "advisories.ProtectionStatus"

    advisory = factory.SubFactory(AdvisoryFactory)
    partner = factory.SubFactory(PartnerFactory)
    state = "not_started"


class ViolationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "compliance.Violation"

    partner = factory.SubFactory(PartnerFactory)
    kind = "leak"
    severity = "high"
    summary = "PoC of FWN-2026-0001 posted on a forum before disclosure."


class ComplianceReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "compliance.ComplianceReview"

    partner = factory.SubFactory(PartnerFactory)
    due_at = factory.LazyFunction(timezone.now)
