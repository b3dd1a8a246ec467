"""Second-factor enrolment and checks (django-otp): TOTP apps plus single-use recovery codes."""

from base64 import b32encode

import segno
from django.db import transaction
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.http import client_ip
from core.services import record_audit_event

RECOVERY_CODE_COUNT = 10


def pending_totp_device(user) -> TOTPDevice:
    """The user's unconfirmed authenticator device, created on first call, so reloading the set-up page keeps the
    same secret."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def totp_secret_base32(device: TOTPDevice) -> str:
    """The secret as authenticator apps expect it typed in."""
    return b32encode(device.bin_key).decode().rstrip("=")


def provisioning_qr_svg(device: TOTPDevice) -> str:
    return segno.make(device.config_url, error="m").svg_inline(scale=4)


def confirm_totp_device(*, request, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the enrolment when `token` is valid for the device: the session counts as verified and the user
    receives fresh recovery codes (returned once, never shown again). Returns None for a wrong code."""
    if not device.verify_token(token.strip()):
        return None
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()
        codes = replace_recovery_codes(user=device.user)
        record_audit_event(actor=device.user, action="mfa.enrolled", target=device.user, ip_address=client_ip(request))
    otp_login(request, device)
    return codes


def replace_recovery_codes(*, user) -> list[str]:
    static_device, _ = StaticDevice.objects.get_or_create(user=user, name="Recovery codes")
    static_device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=static_device, token=code) for code in codes])
    return codes


def verify_second_factor(*, request, token: str) -> bool:
    """Mark the session verified when `token` is a current TOTP code or an unused recovery code (which it uses
    up). Failures are audited; the devices throttle repeated failures themselves."""
    device = match_token(request.user, token.strip().replace(" ", ""))
    if device is None:
        record_audit_event(actor=request.user, action="mfa.failed", target=request.user, ip_address=client_ip(request))
        return False
    otp_login(request, device)
    return True
