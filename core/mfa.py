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
"""

from base64 import b32encode
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from importlib import import_module
from urllib.parse import quote

import segno
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import DEVICE_ID_SESSION_KEY, user_has_device
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import notifications  # noqa: F401  (registers the second-factor notice's outbox handler)
from core.outbox import run_after_commit
from core.roles import require_program_manager
from core.services import record_audit_event

RECOVERY_CODE_COUNT = 10
RECOVERY_DEVICE_NAME = "Recovery codes"
DEFAULT_AUTHENTICATOR_NAME = "Authenticator app"
# A change to the second factor needs a code entered in this session within this time.
REVERIFICATION_WINDOW = timedelta(minutes=10)
# An abandoned set-up leaves an unconfirmed device; older ones are cleared when a new set-up starts.
PENDING_DEVICE_LIFETIME = timedelta(days=1)

PENDING_DEVICE_SESSION_KEY = "mfa_pending_device_id"
VERIFIED_AT_SESSION_KEY = "mfa_verified_at"


class CodeRefused(ValidationError):
    """A code that was not accepted; the message says why and, when django-otp's throttling holds the device, how
    long to wait. `checked` is False when the code was not even tried (the device was waiting)."""

    def __init__(self, message: str, *, checked: bool, wait_seconds: int = 0):
        super().__init__(message, code="invalid" if checked else "waiting")
        self.checked = checked
        self.wait_seconds = wait_seconds


@dataclass(frozen=True)
class SecondFactorProof:
    """What a session proves about its second factor: which device passed, and when (for re-verification)."""

    user_id: int
    device_id: str
    verified_at: datetime | None


# Reading ---------------------------------------------------------------------------------------------------------


def has_second_factor(user) -> bool:
    """True once the account has any confirmed device (an authenticator or its recovery codes): from then on only a
    verified session may change its second factor."""
    return user_has_device(user, confirmed=True)


def authenticators(user) -> list[TOTPDevice]:
    return list(TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("created_at", "pk"))


def unused_recovery_code_count(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def totp_secret_base32(device: TOTPDevice) -> str:
    """The secret as authenticator apps expect it typed in."""
    return b32encode(device.bin_key).decode().rstrip("=")


def provisioning_qr_svg(device: TOTPDevice) -> str:
    return segno.make(device.config_url, error="m").svg_inline(scale=4)


def session_proof(request) -> SecondFactorProof | None:
    """The proof this session holds, or None when it has not passed the second factor."""
    device_id = request.session.get(DEVICE_ID_SESSION_KEY)
    if not request.user.is_authenticated or not device_id:
        return None
    stamp = request.session.get(VERIFIED_AT_SESSION_KEY)
    verified_at = datetime.fromisoformat(stamp) if stamp else None
    return SecondFactorProof(user_id=request.user.pk, device_id=device_id, verified_at=verified_at)


def is_fresh(proof: SecondFactorProof | None, user) -> bool:
    return (
        proof is not None
        and proof.user_id == user.pk
        and proof.verified_at is not None
        and timezone.now() - proof.verified_at <= REVERIFICATION_WINDOW
    )


def _require_fresh_proof(*, user, proof: SecondFactorProof | None) -> None:
    """Refuse unless `proof` shows that `user` passed a still-confirmed device within REVERIFICATION_WINDOW."""
    if not is_fresh(proof, user):
        raise PermissionDenied("Enter a code from your authenticator app (or a recovery code) to confirm it is you.")
    device = Device.from_persistent_id(proof.device_id)
    if device is None or device.user_id != user.pk or not device.confirmed:
        raise PermissionDenied("Enter a code from your authenticator app (or a recovery code) to confirm it is you.")


# Checking codes --------------------------------------------------------------------------------------------------


def _normalised(token: str) -> str:
    return "".join(token.split()).replace("-", "").lower()


def _is_authenticator_code(token: str) -> bool:
    return token.isdigit() and len(token) in (6, 8)


def _wait_phrase(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    if minutes < 90:
        return f"{minutes} minutes"
    return f"{-(-minutes // 60)} hours"


def _seconds_until(moment: datetime) -> int:
    return max(1, -(-int((moment - timezone.now()).total_seconds() * 1000) // 1000))


def _lock_ends(devices) -> list[datetime]:
    """When each device accepts a code again; empty when any of them accepts one now."""
    ends = []
    for device in devices:
        allowed, data = device.verify_is_allowed()
        if allowed:
            return []
        ends.append((data or {}).get("locked_until") or timezone.now())
    return ends


def check_code(*, user, token: str, device: TOTPDevice | None = None) -> Device:
    """The device that accepts `token` (a 6-digit code for the user's authenticators, or for `device` when given;
    anything else is tried as a recovery code, which it uses up). Raises CodeRefused otherwise.

    django-otp throttles each device after a wrong code (1, 2, 4, 8... seconds). While every device that could take
    the code is waiting, the code is not tried at all and the refusal says how long to wait; a correct code entered
    too early is refused with that message, never with "not valid"."""
    token = _normalised(token)
    with transaction.atomic():
        # Verification runs under row locks (select_for_update), so two concurrent tries cannot both use one code.
        if device is not None:
            candidates = list(TOTPDevice.objects.select_for_update().filter(pk=device.pk, user=user))
        elif _is_authenticator_code(token):
            candidates = list(TOTPDevice.objects.devices_for_user(user, confirmed=True).select_for_update())
        else:
            candidates = list(StaticDevice.objects.devices_for_user(user, confirmed=True).select_for_update())
        lock_ends = _lock_ends(candidates)
        if candidates and lock_ends:
            accepted, waiting = None, _seconds_until(min(lock_ends))
        else:
            accepted = next((candidate for candidate in candidates if candidate.verify_token(token)), None)
            waiting = 0
        still_locked = _lock_ends(candidates) if accepted is None and candidates else []
    # Outside the transaction: the failure counts django-otp just saved must stay committed.
    if accepted is not None:
        return accepted
    if waiting:
        raise CodeRefused(
            f"Too many wrong codes. For your security, wait {_wait_phrase(waiting)} and then enter the code your "
            "app shows at that moment. The code you entered was not checked.",
            checked=False,
            wait_seconds=waiting,
        )
    message = "That code is not valid, or has been used already."
    wait = _seconds_until(min(still_locked)) if still_locked else 0
    if wait >= 2:
        message += f" Wait {_wait_phrase(wait)} before you try again."
    raise CodeRefused(message, checked=True, wait_seconds=wait)


# Sessions --------------------------------------------------------------------------------------------------------


def mark_session_verified(request, device: Device) -> None:
    """The session passed `device` now: django-otp's verified state, a new session key (no fixation across the
    step), and the time, which re-verification for sensitive changes reads."""
    otp_login(request, device)
    request.session.cycle_key()
    request.session[VERIFIED_AT_SESSION_KEY] = timezone.now().isoformat()


def _end_sessions(user, *, keep_session_key: str | None = None) -> int:
    """Delete the account's sessions (all but `keep_session_key`). Needs a database-backed session engine (Django's
    default `db`, or `cached_db`): those are the only ones whose sessions can be listed."""
    from django.contrib.sessions.models import Session

    store = import_module(settings.SESSION_ENGINE).SessionStore
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.session_key == keep_session_key:
            continue
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            store(session_key=session.session_key).delete()
            ended += 1
    return ended


def reverification_required(view):
    """A view that changes the second factor: without a code entered in this session within REVERIFICATION_WINDOW,
    send the person to confirm one first, then back (to this page, or to the form's `next`)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if is_fresh(session_proof(request), request.user):
            return view(request, *args, **kwargs)
        back = request.get_full_path() if request.method == "GET" else request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = reverse("account_security")
        return redirect(f"{reverse('account_reverify')}?next={quote(back)}")

    return wrapper


# Changes ---------------------------------------------------------------------------------------------------------


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
    _require_fresh_proof(user=user, proof=proof)
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
            _end_sessions(user, keep_session_key=keep_session_key)
            _notify(user=user, change=change, ip_address=ip_address, **details)
    if refusal is not None:
        raise refusal
    return device


def remove_authenticator(
    *, user, device: TOTPDevice, proof: SecondFactorProof | None, ip_address=None, keep_session_key=None
) -> None:
    """Remove one of several authenticators. Refuses the last one (replace it instead: every account keeps one)
    and the one this session's proof was made with (confirm with another device first)."""
    _require_fresh_proof(user=user, proof=proof)
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
        _end_sessions(user, keep_session_key=keep_session_key)
        _notify(user=user, change="authenticator_removed", ip_address=ip_address, device=name)


def regenerate_recovery_codes(
    *, user, proof: SecondFactorProof | None, ip_address=None, keep_session_key=None
) -> list[str]:
    """New recovery codes (returned once); the old ones stop working. Needs a fresh proof; audited and emailed."""
    _require_fresh_proof(user=user, proof=proof)
    with transaction.atomic():
        user = _lock_account(user)
        codes = _new_recovery_codes(user)
        record_audit_event(actor=user, action="mfa.recovery_codes_regenerated", target=user, ip_address=ip_address)
        _end_sessions(user, keep_session_key=keep_session_key)
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
        ended = _end_sessions(user)
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
    _require_fresh_proof(user=actor, proof=proof)
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
