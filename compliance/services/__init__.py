"""The compliance layer's services, one module per family of actions: contracts and agreements, agreement
reminders, violations, enforcement, appeals, jurisdiction policies and periodic reviews. Each changes state in one
transaction and audits it; callers use the names re-exported here (`from compliance import services`)."""

from compliance.services.appeals import (
    decide_appeal,
    file_appeal,
)
from compliance.services.contracts import (
    lock_contract,
    publish_contract_version,
    record_agreement,
    sign_agreement,
)
from compliance.services.enforcement import (
    impose_level_cap,
    issue_warning,
    reinstate_for_violation,
    remove_for_violation,
    suspend_for_violation,
)
from compliance.services.jurisdictions import (
    LevelChange,
    apply_due_jurisdiction_policies,
    preview_jurisdiction_policy,
    set_jurisdiction_policy,
)
from compliance.services.reminders import (
    EXPIRY_NOTICE_WINDOW,
    due_reminder_kind,
    send_due_agreement_reminders,
)
from compliance.services.reviews import (
    complete_review,
    open_due_reviews,
    review_interval,
)
from compliance.services.violations import (
    add_investigation_note,
    attach_evidence,
    close_violation,
    dismiss_violation,
    evidence_content_type,
    report_violation,
    start_investigation,
    substantiate_violation,
)

__all__ = [
    "EXPIRY_NOTICE_WINDOW",
    "LevelChange",
    "add_investigation_note",
    "apply_due_jurisdiction_policies",
    "attach_evidence",
    "close_violation",
    "complete_review",
    "decide_appeal",
    "dismiss_violation",
    "due_reminder_kind",
    "evidence_content_type",
    "file_appeal",
    "impose_level_cap",
    "issue_warning",
    "lock_contract",
    "open_due_reviews",
    "preview_jurisdiction_policy",
    "publish_contract_version",
    "record_agreement",
    "reinstate_for_violation",
    "remove_for_violation",
    "report_violation",
    "review_interval",
    "send_due_agreement_reminders",
    "set_jurisdiction_policy",
    "sign_agreement",
    "start_investigation",
    "substantiate_violation",
    "suspend_for_violation",
]
