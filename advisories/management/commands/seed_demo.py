"""Demo data for a newcomer: staff, ten partner organisations, agreements, a jurisdiction cap, released advisories
and one advisory whose waves release in the next minutes. Safe to run again: it adds only what is missing."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from advisories import services as advisory_services
from advisories.models import TLP, Advisory, AdvisoryDocument, AdvisoryStatus, Artifact, ReleaseWave, WaveStatus
from advisories.sample_texts import AUTHORED_DOCUMENTS
from advisories.stix.services import add_detection_indicator
from advisories.validators import parse_affected_products
from compliance import services as compliance_services
from compliance.models import Agreement, ContractVersion, JurisdictionPolicy
from core.levels import AccessLevel
from core.mfa import totp_secret_base32
from core.roles import COMPLIANCE_OFFICERS, PROGRAM_MANAGERS
from partners import services as partner_services
from partners.models import MemberRole, Partner, PartnerStatus

DEMO_AUTHENTICATOR = "Demo authenticator"
DEMO_PASSWORD = "forewarn-demo-2026"  # noqa: S105 - printed for newcomers; demo data only  # nosec B105

# legal name, country, assigned level, contracts signed ("nda", "poc"), NDA expired, suspended
DEMO_PARTNERS = [
    ("Northwind Antivirus Inc.", "US", AccessLevel.EARLY, ("nda", "poc"), False, False),
    ("Bastion EDR GmbH", "DE", AccessLevel.EARLY, ("nda", "poc"), False, False),
    ("Kestrel Intrusion Detection Ltd", "GB", AccessLevel.STANDARD, ("nda",), False, False),
    ("Aurora Endpoint K.K.", "JP", AccessLevel.STANDARD, ("nda",), False, False),
    ("Meridian Threat Labs SAS", "FR", AccessLevel.EARLY, ("nda",), False, False),
    ("Sentinel Shield Co., Ltd.", "CN", AccessLevel.EARLY, ("nda", "poc"), False, False),
    ("Cobalt Network Security Ltd", "IL", AccessLevel.STANDARD, ("nda",), False, False),
    ("Tundra Security Corp.", "CA", AccessLevel.STANDARD, ("nda",), True, False),
    ("Harbor Defense Pty Ltd", "AU", AccessLevel.GENERIC, ("nda",), False, False),
    ("Vantage Cyber Ltda", "BR", AccessLevel.EARLY, ("nda", "poc"), False, True),
]

NDA_TEXT = """# Forewarn Partner Program — Non-Disclosure Agreement

1. Advisories received before public release are confidential until their public release time.
2. The partner uses them only to protect its customers through its own security products.
3. The partner shares them with no third party, government body included, before public release.
4. Every copy is personalised and traceable; the program investigates leaks and may suspend or remove partners.
"""

POC_TEXT = """# Forewarn Partner Program — Proof-of-Concept Handling Addendum

1. Proof-of-concept code is kept on access-controlled systems and run only in isolated test environments.
2. It is never uploaded to public services, malware repositories or shared with any third party.
3. The partner names a responsible person for each download and deletes copies after public release plus 30 days.
"""

GENERIC_BODY = """A vulnerability in {product} could allow a remote attacker to {impact}.
Customers should apply the update released on the public release date.

## Mitigation

Apply the vendor's update as soon as it is published. Until then, allow only trusted hosts to reach {product}.
"""

STANDARD_BODY = """## Technical details

The flaw lies in the `{component}` component of {product}: a length field read from the network is trusted
when a buffer is copied, which lets a crafted request {impact}.

## Detection guidance

- Look for requests to `{component}` whose declared length exceeds 4096 bytes.
- The attached detection rules match the malformed header in network traffic.

```
alert tcp any any -> $HOME_NET 445 (msg:"FWN {identifier} malformed length"; sid:9100001; rev:1;)
```
"""

DEMO_ADVISORIES = [
    ("Remote code execution in Contoso Mail Server transport", "Contoso Mail Server 2019, 2022",
     "smtp-transport", "execute code as SYSTEM", "CVE-2026-31001",
     "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "9.8"),
    ("Privilege escalation in Fabrikam Hypervisor vSwitch", "Fabrikam Hypervisor 8.x",
     "vswitch", "escape the guest and run code on the host", "CVE-2026-31002",
     "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", "8.8"),
    ("Authentication bypass in Northgate VPN gateway", "Northgate VPN 5.0 to 5.4",
     "session-broker", "bypass authentication", "CVE-2026-31003",
     "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N", "9.1"),
]  # fmt: skip

LIVE_ADVISORY = ("Memory corruption in Litware Document Viewer", "Litware Document Viewer 12", "font-parser",
                 "run code when a document is opened", "CVE-2026-31100",
                 "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", "7.8")  # fmt: skip


# Per component: the affected products with their CPE and package URL (one per line, as the authoring form takes
# them), the weakness (CWE) and the TLP label (one public advisory of each label, so every provider feed has one).
PRODUCT_DETAILS = {
    "smtp-transport": (
        "Contoso Mail Server 2019 | cpe:2.3:a:contoso:mail_server:2019:*:*:*:*:*:*:*\n"
        "Contoso Mail Server 2022 | cpe:2.3:a:contoso:mail_server:2022:*:*:*:*:*:*:*",
        "CWE-120",
        TLP.CLEAR,
    ),
    "vswitch": (
        "Fabrikam Hypervisor 8.x | cpe:2.3:a:fabrikam:hypervisor:8.*:*:*:*:*:*:*:*",
        "CWE-787",
        TLP.GREEN,
    ),
    "session-broker": (
        "Northgate VPN 5.0 to 5.4 | cpe:2.3:h:northgate:vpn_gateway:5.*:*:*:*:*:*:*:* | "
        "pkg:generic/northgate/vpn-gateway@5.4",
        "CWE-288",
        TLP.AMBER,
    ),
    "font-parser": (
        "Litware Document Viewer 12 | cpe:2.3:a:litware:document_viewer:12:*:*:*:*:*:*:* | "
        "pkg:generic/litware/document-viewer@12",
        "CWE-787",
        TLP.AMBER,
    ),
}

# The program's own detection indicators, per component: (level, type, value, description).
DETECTION_INDICATORS = {
    "smtp-transport": [
        (AccessLevel.STANDARD, "domain", "update-contoso-mail.example", "Command-and-control domain of the exploit."),
        (AccessLevel.EARLY, "sha256", "5f" * 32, "Exploit sample seen in the wild."),
    ],
    "vswitch": [(AccessLevel.STANDARD, "ip", "198.51.100.23", "Scanner probing vSwitch management ports.")],
    "session-broker": [
        (
            AccessLevel.STANDARD,
            "url",
            "https://vpn-login.example/session/renew",
            "Phishing page reusing stolen sessions.",
        )
    ],
    "font-parser": [(AccessLevel.STANDARD, "md5", "0c" * 16, "Malicious document with a crafted font.")],
}


def _product_fields(component: str) -> dict:
    lines, cwe_id, tlp = PRODUCT_DETAILS[component]
    products = parse_affected_products(lines)
    return {
        "affected_products": "\n".join(product.name for product in products),
        "product_identifiers": {product.name: product.identifiers for product in products},
        "cwe_id": cwe_id,
        "tlp": tlp,
    }


# Written with the variant points an author adds against leaks (docs/fingerprinting.md).
REALISTIC_STANDARD_BODIES = dict(
    zip(("smtp-transport", "vswitch", "session-broker", "font-parser"), AUTHORED_DOCUMENTS, strict=True)
)


def _slug(legal_name: str) -> str:
    return legal_name.split()[0].lower()


class Command(BaseCommand):
    help = "Load realistic demo data (idempotent) and print the demo logins."

    def handle(self, *args, **options):
        call_command("sync_roles", verbosity=0, stdout=self.stdout)
        with transaction.atomic():
            manager = self._staff("manager@forewarn.test", "Morgan", "Manager", PROGRAM_MANAGERS)
            self._staff("compliance@forewarn.test", "Casey", "Compliance", COMPLIANCE_OFFICERS)
            self._contracts(manager)
            self._jurisdiction_policy(manager)
            partners = [self._partner(manager, *row) for row in DEMO_PARTNERS]
            for number, spec in enumerate(DEMO_ADVISORIES):
                self._past_advisory(manager, spec, days_ago=30 - 10 * number)
        released = advisory_services.release_due_waves()
        live = self._live_advisory(manager)
        self._print_logins(partners, released, live)

    def _staff(self, email, first_name, last_name, role):
        user_model = get_user_model()
        user = user_model.objects.filter(email=email).first()
        if user is None:
            user = user_model.objects.create_user(
                email=email, password=DEMO_PASSWORD, first_name=first_name, last_name=last_name, is_staff=True
            )
        user.groups.add(Group.objects.get(name=role))
        return user

    def _contracts(self, actor):
        effective_at = timezone.now() - timedelta(days=400)
        for key, title, text, level in (
            ("nda", "Partner Program NDA", NDA_TEXT, AccessLevel.GENERIC),
            ("poc-addendum", "Proof-of-Concept Handling Addendum", POC_TEXT, AccessLevel.EARLY),
        ):
            if not ContractVersion.objects.filter(contract_key=key).exists():
                compliance_services.publish_contract_version(
                    actor=actor,
                    contract_key=key,
                    title=title,
                    version=1,
                    text=text,
                    effective_at=effective_at,
                    required_from_level=level,
                    validity_days=730,
                )

    def _jurisdiction_policy(self, actor):
        if not JurisdictionPolicy.objects.filter(country="CN").exists():
            compliance_services.set_jurisdiction_policy(
                actor=actor,
                country="CN",
                cap_level=AccessLevel.GENERIC,
                effective_at=timezone.now() - timedelta(days=365),
                reason="National law requires reporting vulnerabilities to the government within 48 hours "
                "(Regulations on the Management of Security Vulnerabilities, 2021): no early access, no PoC.",
            )

    def _partner(self, actor, legal_name, country, level, contracts, nda_expired, suspended):
        partner = Partner.objects.filter(legal_name=legal_name).first()
        if partner is None:
            partner = partner_services.create_partner(
                actor=actor,
                legal_name=legal_name,
                country=country,
                assigned_level=level,
                email_domains=[f"{_slug(legal_name)}.test"],
            )
            slug = _slug(legal_name)
            for role in (MemberRole.ADMIN, MemberRole.ANALYST):
                partner_services.add_member(
                    actor=actor, partner=partner, email=f"{role}@{slug}.test", role=role, password=DEMO_PASSWORD
                )
        if not Agreement.objects.filter(partner=partner).exists():
            signed_at = timezone.now() - timedelta(days=800 if nda_expired else 60)
            keys = {"nda": "nda", "poc": "poc-addendum"}
            for contract in contracts:
                compliance_services.record_agreement(
                    actor=actor,
                    partner=partner,
                    contract_version=ContractVersion.objects.get(contract_key=keys[contract], version=1),
                    signer_name="Demo Signer",
                    signer_title="Chief Information Security Officer",
                    signed_at=signed_at,
                )
        if suspended and partner.status == PartnerStatus.ACTIVE:
            partner = partner_services.suspend_partner(
                partner=partner, actor=actor, reason="Demo: PoC shared on a public repository (under investigation)."
            )
        return partner

    def _fill_advisory(self, actor, advisory, spec):
        title, product, component, impact, *_ = spec
        AdvisoryDocument.objects.create(
            advisory=advisory,
            level=AccessLevel.GENERIC,
            title="Summary",
            body_markdown=GENERIC_BODY.format(product=product, impact=impact),
        )
        AdvisoryDocument.objects.create(
            advisory=advisory,
            level=AccessLevel.STANDARD,
            title="Technical description and detection guidance",
            # Full-length technical texts: long enough that any excerpt carries the reader's fingerprint.
            body_markdown=REALISTIC_STANDARD_BODIES.get(component)
            or STANDARD_BODY.format(
                product=product, component=component, impact=impact, identifier=advisory.identifier
            ),
        )
        rule = f'rule FWN_{advisory.identifier.replace("-", "_")} {{ strings: $h = "{component}" condition: $h }}\n'
        poc = f'"""Proof of concept for {advisory.identifier}. Run only in an isolated lab."""\nimport socket\n\n'
        poc += (  # variant points: a function name, a filler byte, a port written two valid ways
            "def {{= trigger | fire | run_exploit =}}(host):\n    payload = b'{{= \\x41..\\x50 =}}' * 8192\n"
            "    socket.create_connection((host, {{= 445 | 0x1bd =}})).send(payload)\n"
        )
        for level, name, filename, content, content_type in (
            (AccessLevel.STANDARD, "YARA detection rule", "detection.yar", rule, "text/plain"),
            (AccessLevel.EARLY, "Proof of concept", "poc.py", poc, "text/x-python"),
        ):
            artifact = Artifact(advisory=advisory, level=level, name=name, content_type=content_type)
            upload = ContentFile(content.encode(), name=filename)
            advisory_services.store_artifact(actor=actor, artifact=artifact, uploaded_file=upload)
        for level, indicator_type, value, description in DETECTION_INDICATORS.get(component, []):
            add_detection_indicator(
                actor=actor,
                advisory=advisory,
                level=level,
                indicator_type=indicator_type,
                value=value,
                description=description,
            )

    def _past_advisory(self, actor, spec, days_ago):
        title, _, component, _, cve, vector, score = spec
        if Advisory.objects.filter(title=title).exists():
            return
        public_at = timezone.now() - timedelta(days=days_ago)
        advisory = advisory_services.create_advisory(
            actor=actor,
            title=title,
            public_release_at=public_at,
            cve_ids=[cve],
            **_product_fields(component),
            cvss_vector=vector,
            cvss_score=score,
        )
        self._fill_advisory(actor, advisory, spec)
        for level, before in ((AccessLevel.EARLY, 7), (AccessLevel.STANDARD, 3), (AccessLevel.GENERIC, 0)):
            ReleaseWave.objects.create(advisory=advisory, level=level, scheduled_at=public_at - timedelta(days=before))
        # History: the plan was scheduled before its waves came due; they release below, as a late run would.
        Advisory.objects.filter(pk=advisory.pk).update(status=AdvisoryStatus.SCHEDULED)

    def _live_advisory(self, actor):
        upcoming = ReleaseWave.objects.filter(status=WaveStatus.SCHEDULED, scheduled_at__gt=timezone.now())
        if upcoming.exists():
            return upcoming.first().advisory
        title, _, component, _, cve, vector, score = LIVE_ADVISORY
        now = timezone.now().replace(second=0, microsecond=0)
        public_at = now + timedelta(minutes=6)
        advisory = advisory_services.create_advisory(
            actor=actor,
            title=f"{title} ({now:%H:%M} UTC demo)",
            public_release_at=public_at,
            cve_ids=[cve],
            **_product_fields(component),
            cvss_vector=vector,
            cvss_score=score,
        )
        self._fill_advisory(actor, advisory, LIVE_ADVISORY)
        for level, minutes in ((AccessLevel.EARLY, 2), (AccessLevel.STANDARD, 4), (AccessLevel.GENERIC, 6)):
            ReleaseWave.objects.create(advisory=advisory, level=level, scheduled_at=now + timedelta(minutes=minutes))
        return advisory_services.schedule_advisory(actor=actor, advisory=advisory)

    def _enrol_demo_authenticators(self, emails):
        """Every account needs a second factor; demo accounts get theirs now, with secrets printed below."""
        devices = {}
        for user in get_user_model().objects.filter(email__in=emails):
            device, _ = TOTPDevice.objects.get_or_create(
                user=user, name=DEMO_AUTHENTICATOR, defaults={"confirmed": True}
            )
            devices[user.email] = totp_secret_base32(device)
        return devices

    def _print_logins(self, partners, released, live):
        write = self.stdout.write
        write("")
        write(self.style.SUCCESS("Forewarn demo data is ready."))
        write(f"Released {len(released)} due waves now. Live demo: {live.identifier}, waves at:")
        for wave in live.waves.order_by("scheduled_at"):
            write(
                f"  {wave.get_level_display():>8}: {wave.scheduled_at:%Y-%m-%d %H:%M} UTC ({wave.get_status_display()})"
            )
        accounts = [
            ("manager@forewarn.test", "program manager, /program/advisories/"),
            ("compliance@forewarn.test", "compliance officer, /program/partners/"),
        ]
        for partner in partners:
            slug = _slug(partner.legal_name)
            note = {
                "CN": "capped at generic by jurisdiction policy",
                "CA": "NDA expired: no access",
                "FR": "no PoC addendum: capped at standard",
            }.get(str(partner.country), "suspended" if partner.status == PartnerStatus.SUSPENDED else "")
            summary = f"{partner} ({partner.country}, assigned {partner.get_assigned_level_display()})"
            accounts += [
                (f"admin@{slug}.test", f"{summary}{' - ' + note if note else ''}"),
                (f"analyst@{slug}.test", "analyst of the same organisation"),
            ]
        secrets = self._enrol_demo_authenticators([email for email, _ in accounts])
        write(f"\nEvery demo account's password: {DEMO_PASSWORD}")
        write("Second factor: add the account's secret to an authenticator app, or print its current code with")
        write("  .venv/bin/python manage.py demo_totp_code EMAIL")
        for email, description in accounts:
            write(f"  {email:<28} TOTP {secrets[email]}  {description}")
