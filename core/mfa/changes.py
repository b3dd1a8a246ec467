"""Every change to an account's second factor: enrolment, adding, replacing and removing authenticators, new
recovery codes, the login's verification and the resets. Each is one transaction under a lock on the account,
audited and emailed after commit."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import notifications  # noqa: F401  (registers the second-factor notice's outbox handler)
from core.mfa.codes import CodeRefused, check_code
from core.mfa.devices import (
    DEFAULT_AUTHENTICATOR_NAME,
    PENDING_DEVICE_LIFETIME,
    RECOVERY_CODE_COUNT,
    RECOVERY_DEVICE_NAME,
    has_second_factor,
)
from core.mfa.sessions import SecondFactorProof, end_sessions, require_fresh_proof
from core.outbox import run_after_commit
from core.roles import require_program_manager
from core.services import record_audit_event


def _lock_account(user):
    """Serialise every change to one account's second factor (row lock on the user)."""
    return get_user_model().objects.select_for_update().get(pk=user.pk)


def _notify(*, user, change: str, ip_address, **details) -> None:
    run_after_commit(
        "core.second_factor_notice",
        user_id=user.pk,
        change=change,
        at=timezone.now().isoformat(),
        ip_address=ip_address,
        details=details or None,
    )


def _new_recovery_codes(user) -> list[str]:
    static_device, _ = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
    )
    static_device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=static_device, token=code) for code in codes])
    return codes


def start_authenticator_setup(*, user, pending_id: int | None = None, name: str = "") -> TOTPDevice:
    """The unconfirmed authenticator this set-up shows: the one named by `pending_id` (kept in the session, so that
    reloading keeps the secret) if it is still this user's, else a new one. Never another session's device."""
    device = TOTPDevice.objects.filter(pk=pending_id, user=user, confirmed=False).first() if pending_id else None
    if device is not None:
        return device
    TOTPDevice.objects.filter(
        user=user, confirmed=False, created_at__lt=timezone.now() - PENDING_DEVICE_LIFETIME
    ).delete()
    return TOTPDevice.objects.create(user=user, name=name.strip()[:64] or DEFAULT_AUTHENTICATOR_NAME, confirmed=False)


def _pending_device(user, device: TOTPDevice) -> TOTPDevice:
    pending = TOTPDevice.objects.filter(pk=device.pk, user=user, confirmed=False).first()
    if pending is None:
        raise ValidationError("This set-up has expired or was completed elsewhere. Start again.")
    return pending


def _confirm_pending(*, user, device: TOTPDevice, token: str) -> CodeRefused | None:
    """Check the code on the pending device; on success confirm it and drop every other pending device."""
    try:
        check_code(user=user, token=token, device=device)
    except CodeRefused as refusal:
        return refusal
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return None


def enrol_first_authenticator(*, user, device: TOTPDevice, token: str, ip_address=None) -> list[str]:
    """First enrolment: confirm `device` (this session's pending authenticator) with a current code from it and
    return new recovery codes (shown once). Refuses an account that already has a confirmed device — the password
    alone never adds, replaces or resets a second factor — and a device that is not this user's pending one."""
    refusal = None
    with transaction.atomic():
        user = _lock_account(user)
        if has_second_factor(user):
            raise PermissionDenied(
                "This account already has a second factor. Sign in with it (or a recovery code) to change it."
            )
        device = _pending_device(user, device)
        refusal = _confirm_pending(user=user, device=device, token=token)
        if refusal is None:
            codes = _new_recovery_codes(user)
            record_audit_event(
                actor=user,
                action="mfa.enrolled",
                target=user,
                details={"device": device.name},
                ip_address=ip_address,
            )
            _notify(user=user, change="enrolled", ip_address=ip_address)
    if refusal is not None:
        raise refusal
    return codes


def add_authenticator(
    *,
    user,
    device: TOTPDevice,
    token: str,
    proof: SecondFactorProof | None,
    replacing: TOTPDevice | None = None,
    ip_address=None,
    keep_session_key: str | None = None,
) -> TOTPDevice:
    """Confirm another authenticator for a verified account (and, with `replacing`, remove that one in the same
    transaction). Needs a fresh proof; audited, emailed, and the account's other sessions end."""
    require_fresh_proof(user=user, proof=proof)
    refusal = None
    with transaction.atomic():
        user = _lock_account(user)
        device = _pending_device(user, device)
        if replacing is not None:
            replacing = TOTPDevice.objects.filter(pk=replacing.pk, user=user, confirmed=True).first()
            if replacing is None:
                raise ValidationError("The authenticator to replace no longer exists.")
        refusal = _confirm_pending(user=user, device=device, token=token)
        if refusal is None:
            details = {"device": device.name}
            if replacing is not None:
                details["replaced"] = replacing.name
                replacing.delete()
            change = "authenticator_replaced" if replacing is not None else "authenticator_added"
            record_audit_event(actor=user, action=f"mfa.{change}", target=user, details=details, ip_address=ip_address)
            end_sessions(user, keep_session_key=keep_session_key)
            _notify(user=user, change=change, ip_address=ip_address, **details)
    if refusal is not None:
        raise refusal
    return device


def remove_authenticator(
    *, user, device: TOTPDevice, proof: SecondFactorProof | None, ip_address=None, keep_session_key=None
) -> None:
    """Remove one of several authenticators. Refuses the last one (replace it instead: every account keeps one)
    and the one this session's proof was made with (confirm with another device first)."""
    require_fresh_proof(user=user, proof=proof)
    with transaction.atomic():
        user = _lock_account(user)
        device = TOTPDevice.objects.filter(pk=device.pk, user=user, confirmed=True).first()
        if device is None:
            raise ValidationError("That authenticator no longer exists.")
        if TOTPDevice.objects.filter(user=user, confirmed=True).count() < 2:
            raise ValidationError("Every account keeps one authenticator app: replace this one instead.")
        if device.persistent_id == proof.device_id:
            raise ValidationError(
                "You confirmed with this authenticator. Confirm with another one (or a recovery code) to remove it."
            )
        name = device.name
        device.delete()
        record_audit_event(
            actor=user, action="mfa.authenticator_removed", target=user, details={"device": name}, ip_address=ip_address
        )
        end_sessions(user, keep_session_key=keep_session_key)
        _notify(user=user, change="authenticator_removed", ip_address=ip_address, device=name)


def regenerate_recovery_codes(
    *, user, proof: SecondFactorProof | None, ip_address=None, keep_session_key=None
) -> list[str]:
    """New recovery codes (returned once); the old ones stop working. Needs a fresh proof; audited and emailed."""
    require_fresh_proof(user=user, proof=proof)
    with transaction.atomic():
        user = _lock_account(user)
        codes = _new_recovery_codes(user)
        record_audit_event(actor=user, action="mfa.recovery_codes_regenerated", target=user, ip_address=ip_address)
        end_sessions(user, keep_session_key=keep_session_key)
        _notify(user=user, change="recovery_codes_regenerated", ip_address=ip_address)
    return codes


def verify_second_factor(*, user, token: str, ip_address=None) -> Device:
    """The login's second step: the device that accepts `token`. A code that was checked and failed is audited; one
    refused only because the device is waiting is not (the wait already bounds those). A recovery code used to sign
    in is audited and emailed, with the number left."""
    try:
        device = check_code(user=user, token=token)
    except CodeRefused as refusal:
        if refusal.checked:
            record_audit_event(actor=user, action="mfa.failed", target=user, ip_address=ip_address)
        raise
    if isinstance(device, StaticDevice):
        remaining = device.token_set.count()
        with transaction.atomic():
            record_audit_event(
                actor=user,
                action="mfa.recovery_code_used",
                target=user,
                details={"remaining": remaining},
                ip_address=ip_address,
            )
            _notify(user=user, change="recovery_code_used", ip_address=ip_address, remaining=remaining)
    return device


def _remove_every_device(*, user, actor, action: str, reason: str, ip_address) -> None:
    with transaction.atomic():
        user = _lock_account(user)
        for model in (TOTPDevice, StaticDevice):
            model.objects.filter(user=user).delete()
        ended = end_sessions(user)
        record_audit_event(
            actor=actor,
            action=action,
            target=user,
            details={"reason": reason, "sessions_ended": ended},
            ip_address=ip_address,
        )
        _notify(user=user, change="reset", ip_address=ip_address)


def reset_second_factor(*, user, actor, reason: str, proof: SecondFactorProof | None, ip_address=None) -> None:
    """A partner user lost their authenticator and recovery codes: remove every device, end the user's sessions,
    and let the next login enrol a new authenticator. Program managers only, after confirming their own second
    factor, with a written reason (verify the person's identity out of band first). Staff accounts and one's own
    account are refused: an operator resets those (manage.py reset_second_factor)."""
    require_program_manager(actor)
    require_fresh_proof(user=actor, proof=proof)
    if user.pk == actor.pk:
        raise PermissionDenied("You cannot reset your own second factor; use your Security page.")
    if user.is_staff or user.is_superuser:
        raise PermissionDenied("A staff account's second factor is reset only by an operator.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why, and how you confirmed who asked."})
    _remove_every_device(user=user, actor=actor, action="mfa.reset", reason=reason, ip_address=ip_address)


def reset_second_factor_by_operator(*, user, reason: str) -> None:
    """The operator's reset (shell access to a server, `manage.py reset_second_factor`), for any account including
    staff: same effects as reset_second_factor, audited with the system as actor."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why."})
    _remove_every_device(user=user, actor=None, action="mfa.reset_by_operator", reason=reason, ip_address=None)
