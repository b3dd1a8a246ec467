"""The partner dashboard: what the organisation received lately, and what to do next."""

from dataclasses import dataclass
from datetime import datetime

from advisories.models import (
    Notice,
)
from advisories.selectors.portal import advisories_for_partner
from compliance.entitlements import PartnerAccess, entitlement_facts
from compliance.selectors import Standing, signing_overview
from core.levels import LEVEL_MEANING, AccessLevel
from partners.models import ApiToken, MemberRole, Partner, PartnerMembership, PartnerStatus

DASHBOARD_ITEMS = 10


@dataclass(frozen=True)
class NextStep:
    """What an organisation without its full level must do next, as told to one member: `sign` (a partner admin:
    the agreements are in `PartnerDashboard.agreements_to_sign`), `ask_admin` (an analyst), `suspended` or
    `restricted` (enforcement); `level_once_signed` is what it receives once the agreements are signed."""

    kind: str
    level_once_signed: AccessLevel
    admins: list[str]

    @property
    def receives(self) -> str:
        return LEVEL_MEANING[self.level_once_signed]


@dataclass(frozen=True)
class PartnerDashboard:
    since: datetime | None
    new_advisories: list
    new_advisory_count: int
    agreements_to_sign: list
    unread_notices: list
    unread_notice_count: int
    team: list
    api_tokens: list | None
    next_step: NextStep | None = None


def next_step(*, access: PartnerAccess, at: datetime, team: list | None = None) -> NextStep | None:
    """What the organisation must do to reach the level the program assigned it, read from the entitlement rule's
    inputs; None when nothing holds it back but its assigned level (or a jurisdiction policy, which no one in the
    organisation can change)."""
    facts = entitlement_facts(Partner.objects.filter(pk=access.partner.pk), at)[access.partner.pk]
    admins = [m.user.get_full_name() or m.user.email for m in team or [] if m.role == MemberRole.ADMIN]
    once_signed = AccessLevel(min(facts.assigned_level, facts.jurisdiction_cap, facts.enforcement_cap))
    if facts.status != PartnerStatus.ACTIVE:
        return NextStep(kind="suspended", level_once_signed=once_signed, admins=admins)
    if facts.contract_cap < once_signed:
        kind = "sign" if access.membership.role == MemberRole.ADMIN else "ask_admin"
        return NextStep(kind=kind, level_once_signed=once_signed, admins=admins)
    if facts.level == AccessLevel.NONE:
        return NextStep(kind="restricted", level_once_signed=once_signed, admins=admins)
    return None


def partner_dashboard(*, access: PartnerAccess, user, since: datetime | None, at: datetime) -> PartnerDashboard:
    """What a partner user should look at first: what to do next when the organisation lacks an agreement or is
    suspended, advisories delivered since `since` (the latest ones on a first visit) that the organisation may
    still open, required contracts missing or expiring, the user's unread notices, the active team, and (for
    partner admins only) the organisation's usable API tokens."""
    new_advisories, new_advisory_count = [], 0
    if access.level > AccessLevel.NONE:
        advisories = advisories_for_partner(access=access)
        if since is not None:
            advisories = advisories.filter(delivered_at__gt=since)
        new_advisories, new_advisory_count = list(advisories[:DASHBOARD_ITEMS]), advisories.count()
    (contracts,) = signing_overview(at=at, partners=Partner.objects.filter(pk=access.partner.pk))
    to_sign = [s for s in contracts.standings if s.required and (s.state == Standing.MISSING or s.expiring_soon)]
    unread = Notice.objects.filter(user=user, read_at__isnull=True).select_related("advisory").order_by("-created_at")
    is_admin = access.membership.role == MemberRole.ADMIN
    team = list(
        PartnerMembership.objects.filter(partner=access.partner, is_active=True)
        .select_related("user")
        .order_by("role", "user__email")
    )
    return PartnerDashboard(
        since=since,
        new_advisories=new_advisories,
        new_advisory_count=new_advisory_count,
        agreements_to_sign=to_sign,
        unread_notices=list(unread[:DASHBOARD_ITEMS]),
        unread_notice_count=unread.count(),
        team=team,
        api_tokens=list(
            ApiToken.objects.filter(partner=access.partner, revoked_at__isnull=True, expires_at__gt=at).order_by(
                "expires_at"
            )
        )
        if is_admin
        else None,
        next_step=next_step(access=access, team=team, at=at),
    )
