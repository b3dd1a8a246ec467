"""Partner organisations: creating them, their members added by the program, their seats and email domains, and
the lock every service that changes an organisation takes first."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import DomainNameValidator
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.levels import AccessLevel
from core.roles import require_program_manager
from core.services import record_audit_event
from partners.models import MemberRole, Partner, PartnerDomain, PartnerMembership, PartnerStatus


def normalise_domains(domains) -> list[str]:
    """Lower-case, de-duplicated, validated email domains ("@Example.COM" -> "example.com")."""
    validator = DomainNameValidator(accept_idna=False)
    result = []
    for raw in domains:
        domain = raw.strip().lstrip("@").rstrip(".").lower()
        if not domain:
            continue
        try:
            validator(domain)
        except ValidationError as error:
            raise ValidationError({"email_domains": f"“{domain}” is not a valid domain name."}) from error
        if "." not in domain:
            raise ValidationError({"email_domains": f"“{domain}” is not a valid domain name."})
        if domain not in result:
            result.append(domain)
    return result


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower()


def lock_partner(partner_id: int) -> Partner:
    """Lock an organisation's row and return it fresh. Every service that changes the organisation or its rows
    (memberships, invitations, API tokens, agreements, enforcement) takes this lock first in its transaction and
    checks standing and rights after it (docs/architecture.md, "Locks")."""
    return Partner.objects.select_for_update().get(pk=partner_id)


def create_partner(
    *,
    actor,
    legal_name: str,
    country: str,
    assigned_level: int,
    trading_name: str = "",
    email_domains=(),
    seat_limit: int | None = None,
) -> Partner:
    """Create an active partner organisation with its own auth Group. Refuses non-managers and duplicates."""
    require_program_manager(actor)
    legal_name = legal_name.strip()
    if not legal_name:
        raise ValidationError({"legal_name": "A legal name is required."})
    if assigned_level not in AccessLevel.values:
        raise ValidationError({"assigned_level": "Unknown access level."})
    domains = normalise_domains(email_domains)
    duplicate = ValidationError({"legal_name": "An organisation with this legal name already exists."})
    with transaction.atomic():
        if Partner.objects.filter(legal_name__iexact=legal_name).exists():
            raise duplicate
        try:
            with transaction.atomic():  # the unique legal name and Group name decide between concurrent creations
                group = Group.objects.create(name=f"partner:{legal_name}"[:150])
                partner = Partner.objects.create(
                    legal_name=legal_name,
                    trading_name=trading_name.strip(),
                    country=country,
                    assigned_level=assigned_level,
                    group=group,
                    seat_limit=seat_limit or settings.PARTNER_DEFAULT_SEAT_LIMIT,
                )
        except IntegrityError:
            raise duplicate from None
        PartnerDomain.objects.bulk_create([PartnerDomain(partner=partner, domain=domain) for domain in domains])
        record_audit_event(
            actor=actor,
            action="partner.created",
            target=partner,
            details={"country": str(country), "assigned_level": AccessLevel(assigned_level).label, "domains": domains},
        )
    return partner


def add_member(*, actor, partner: Partner, email: str, role: str, password: str | None = None) -> PartnerMembership:
    """Create a partner user and their membership directly (program managers, e.g. in the admin). Refuses staff
    accounts and people already in an organisation. Partner admins use invitations instead."""
    require_program_manager(actor)
    if role not in MemberRole.values:
        raise ValidationError({"role": "Unknown role."})
    user_model = get_user_model()
    email = user_model.objects.normalize_email(email).lower()
    with transaction.atomic():
        partner = lock_partner(partner.pk)
        if partner.status == PartnerStatus.REMOVED:
            raise ValidationError("A removed organisation cannot gain members.")
        user = user_model.objects.filter(email__iexact=email).first()
        if user is not None and user.is_staff:
            raise ValidationError({"email": "Program staff cannot be members of a partner organisation."})
        if user is not None and PartnerMembership.objects.filter(user=user).exists():
            raise ValidationError({"email": "This person already belongs to an organisation."})
        try:
            with transaction.atomic():  # the unique email and one-membership rules decide between concurrent joins
                if user is None:
                    user = user_model.objects.create_user(email=email, password=password)
                membership = PartnerMembership.objects.create(user=user, partner=partner, role=role)
        except IntegrityError:
            raise ValidationError({"email": "This person already belongs to an organisation."}) from None
        record_audit_event(
            actor=actor, action="partner.member_added", target=partner, details={"email": email, "role": role}
        )
    return membership


def update_team_settings(*, partner: Partner, actor, seat_limit: int, email_domains) -> Partner:
    """Set how many seats an organisation has and which email domains its people may be invited on (program
    managers). Refuses a seat limit below the seats already taken and an empty domain list."""
    require_program_manager(actor)
    domains = normalise_domains(email_domains)
    if not domains:
        raise ValidationError({"email_domains": "Register at least one email domain."})
    with transaction.atomic():
        partner = lock_partner(partner.pk)
        taken = partner.memberships.filter(is_active=True).count() + partner.invitations.pending(timezone.now()).count()
        if seat_limit < max(taken, 1):
            raise ValidationError({"seat_limit": f"{taken} seats are taken; the limit cannot be lower."})
        before = {
            "seat_limit": partner.seat_limit,
            "email_domains": list(partner.domains.values_list("domain", flat=True)),
        }
        partner.seat_limit = seat_limit
        partner.save(update_fields=["seat_limit"])
        partner.domains.exclude(domain__in=domains).delete()
        PartnerDomain.objects.bulk_create(
            [PartnerDomain(partner=partner, domain=domain) for domain in domains], ignore_conflicts=True
        )
        record_audit_event(
            actor=actor,
            action="partner.team_settings_changed",
            target=partner,
            details={"before": before, "after": {"seat_limit": seat_limit, "email_domains": domains}},
        )
    return partner
