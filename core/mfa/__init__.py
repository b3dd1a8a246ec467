"""The second factor (django-otp): TOTP authenticator apps plus single-use recovery codes. docs/security.md tells
the whole lifecycle; in short:

- **First enrolment** only for an account without any confirmed device: a password alone never replaces a device.
  Each session enrols its own pending device (its secret is shown to that session only).
- **Verification** at every login: a current TOTP code or an unused recovery code, throttled per device by
  django-otp (1, 2, 4, 8... seconds after successive failures); the refusal says how long to wait.
- **Changes** (add, replace or remove an authenticator, new recovery codes) need a fresh proof: this session passed
  a code within REVERIFICATION_WINDOW. Each is one transaction, audited, emailed to the account after commit, and
  ends the account's other sessions.
- **Staff reset** of a lost device: program managers, for partner accounts only, with a reason and a fresh proof of
  their own; every device and recovery code goes, the account's sessions end, and the next login enrols anew. A staff
  account is reset only by an operator (`manage.py reset_second_factor`).

Where: `devices` (an account's devices, read), `codes` (checking a code), `sessions` (a session's proof, fresh proofs,
ending sessions), `changes` (every change, the login's verification, the resets). The names callers use are
importable from `core.mfa`.
"""

from core.mfa.changes import (
    add_authenticator,
    enrol_first_authenticator,
    regenerate_recovery_codes,
    remove_authenticator,
    reset_second_factor,
    reset_second_factor_by_operator,
    start_authenticator_setup,
    verify_second_factor,
)
from core.mfa.codes import CodeRefused, check_code
from core.mfa.devices import (
    DEFAULT_AUTHENTICATOR_NAME,
    PENDING_DEVICE_LIFETIME,
    RECOVERY_CODE_COUNT,
    RECOVERY_DEVICE_NAME,
    authenticators,
    has_second_factor,
    provisioning_qr_svg,
    totp_secret_base32,
    unused_recovery_code_count,
)
from core.mfa.sessions import (
    PENDING_DEVICE_SESSION_KEY,
    REVERIFICATION_WINDOW,
    VERIFIED_AT_SESSION_KEY,
    SecondFactorProof,
    end_sessions,
    is_fresh,
    mark_session_verified,
    require_fresh_proof,
    reverification_required,
    session_proof,
)

__all__ = [
    "DEFAULT_AUTHENTICATOR_NAME",
    "PENDING_DEVICE_LIFETIME",
    "PENDING_DEVICE_SESSION_KEY",
    "RECOVERY_CODE_COUNT",
    "RECOVERY_DEVICE_NAME",
    "REVERIFICATION_WINDOW",
    "VERIFIED_AT_SESSION_KEY",
    "CodeRefused",
    "SecondFactorProof",
    "add_authenticator",
    "authenticators",
    "check_code",
    "end_sessions",
    "enrol_first_authenticator",
    "has_second_factor",
    "is_fresh",
    "mark_session_verified",
    "provisioning_qr_svg",
    "regenerate_recovery_codes",
    "remove_authenticator",
    "require_fresh_proof",
    "reset_second_factor",
    "reset_second_factor_by_operator",
    "reverification_required",
    "session_proof",
    "start_authenticator_setup",
    "totp_secret_base32",
    "unused_recovery_code_count",
    "verify_second_factor",
]
