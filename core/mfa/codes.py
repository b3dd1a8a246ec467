"""Checking a code against an account's devices: a TOTP code from an authenticator app, or a single-use recovery
code, under django-otp's throttling."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice


class CodeRefused(ValidationError):
    """A code that was not accepted; the message says why and, when django-otp's throttling holds the device, how
    long to wait. `checked` is False when the code was not even tried (the device was waiting)."""

    def __init__(self, message: str, *, checked: bool, wait_seconds: int = 0):
        super().__init__(message, code="invalid" if checked else "waiting")
        self.checked = checked
        self.wait_seconds = wait_seconds


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
