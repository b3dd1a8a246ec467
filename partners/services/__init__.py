"""The partners layer's services, one module per family of actions: organisations, standing, applications, the
team (invitations, members) and API tokens. Each changes state in one transaction and audits it; callers use the
names re-exported here (`from partners import services`)."""

from partners.services.api_tokens import (
    create_api_token,
    record_api_token_use,
    revoke_api_token,
)
from partners.services.applications import (
    APPLICATION_FIELDS,
    DuplicateApplication,
    add_application_note,
    approve_application,
    find_duplicate,
    reject_application,
    start_review,
    submit_application,
    update_checklist,
    verify_application_email,
)
from partners.services.organisations import (
    add_member,
    create_partner,
    email_domain,
    lock_partner,
    normalise_domains,
    update_team_settings,
)
from partners.services.standing import (
    change_assigned_level,
    end_due_suspensions,
    reinstate_partner,
    remove_partner,
    suspend_partner,
)
from partners.services.team import (
    accept_invitation,
    deactivate_member,
    invitation_from_token,
    invite_member,
    revoke_invitation,
)

__all__ = [
    "APPLICATION_FIELDS",
    "DuplicateApplication",
    "accept_invitation",
    "add_application_note",
    "add_member",
    "approve_application",
    "change_assigned_level",
    "create_api_token",
    "create_partner",
    "deactivate_member",
    "email_domain",
    "end_due_suspensions",
    "find_duplicate",
    "invitation_from_token",
    "invite_member",
    "lock_partner",
    "normalise_domains",
    "record_api_token_use",
    "reinstate_partner",
    "reject_application",
    "remove_partner",
    "revoke_api_token",
    "revoke_invitation",
    "start_review",
    "submit_application",
    "suspend_partner",
    "update_checklist",
    "update_team_settings",
    "verify_application_email",
]
