"""An account's second-factor devices (django-otp): its authenticator apps and its recovery codes."""

from base64 import b32encode
from datetime import timedelta

import segno
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

RECOVERY_CODE_COUNT = 10
RECOVERY_DEVICE_NAME = "Recovery codes"
DEFAULT_AUTHENTICATOR_NAME = "Authenticator app"
# An abandoned set-up leaves an unconfirmed device; older ones are cleared when a new set-up starts.
PENDING_DEVICE_LIFETIME = timedelta(days=1)


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
