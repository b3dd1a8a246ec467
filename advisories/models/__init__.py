"""The advisories models, one module per part of the domain; every name is re-exported here, so that
`from advisories.models import Advisory` and the migrations keep working."""

from advisories.models.advisory import (
    DOCUMENT_LEVELS,
    SEVERITY_SCORE_RANGES,
    TLP,
    Advisory,
    AdvisoryCVE,
    AdvisoryDocument,
    AdvisoryStatus,
    Severity,
    severity_for_score,
)
from advisories.models.artifacts import (
    ARTIFACT_LEVELS,
    Artifact,
    artifact_upload_path,
)
from advisories.models.delivery import (
    AccessKind,
    Delivery,
    DownloadEvent,
    HandlingAcknowledgement,
    PortalVisit,
)
from advisories.models.leaks import (
    LeakIncident,
    LeakSample,
)
from advisories.models.notices import (
    EmailMode,
    Notice,
    NoticeKind,
    NoticePreference,
)
from advisories.models.permissions import (
    AdvisoryDocumentGroupObjectPermission,
    AdvisoryDocumentUserObjectPermission,
    AdvisoryGroupObjectPermission,
    AdvisoryUserObjectPermission,
    ArtifactGroupObjectPermission,
    ArtifactUserObjectPermission,
)
from advisories.models.protection import (
    PROTECTION_TRANSITIONS,
    Confidence,
    DetectionIndicator,
    FeedbackKind,
    IndicatorType,
    PartnerIndicator,
    ProtectionFeedback,
    ProtectionReminder,
    ProtectionState,
    ProtectionStatus,
)
from advisories.models.release import (
    WAVE_LEVELS,
    ReleaseCohort,
    ReleaseWave,
    WaveStatus,
)
from advisories.models.webhooks import (
    WebhookAttempt,
    WebhookEndpoint,
    WebhookEventType,
    WebhookMessage,
    WebhookMessageStatus,
)

__all__ = [
    "ARTIFACT_LEVELS",
    "AccessKind",
    "Advisory",
    "AdvisoryCVE",
    "AdvisoryDocument",
    "AdvisoryDocumentGroupObjectPermission",
    "AdvisoryDocumentUserObjectPermission",
    "AdvisoryGroupObjectPermission",
    "AdvisoryStatus",
    "AdvisoryUserObjectPermission",
    "Artifact",
    "ArtifactGroupObjectPermission",
    "ArtifactUserObjectPermission",
    "Confidence",
    "DOCUMENT_LEVELS",
    "Delivery",
    "DetectionIndicator",
    "DownloadEvent",
    "EmailMode",
    "FeedbackKind",
    "HandlingAcknowledgement",
    "IndicatorType",
    "LeakIncident",
    "LeakSample",
    "Notice",
    "NoticeKind",
    "NoticePreference",
    "PROTECTION_TRANSITIONS",
    "PartnerIndicator",
    "PortalVisit",
    "ProtectionFeedback",
    "ProtectionReminder",
    "ProtectionState",
    "ProtectionStatus",
    "ReleaseCohort",
    "ReleaseWave",
    "SEVERITY_SCORE_RANGES",
    "Severity",
    "TLP",
    "WAVE_LEVELS",
    "WaveStatus",
    "WebhookAttempt",
    "WebhookEndpoint",
    "WebhookEventType",
    "WebhookMessage",
    "WebhookMessageStatus",
    "artifact_upload_path",
    "severity_for_score",
]
