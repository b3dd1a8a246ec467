"""What a session proves about its second factor: marking it verified, the fresh proof that changes need, and
ending an account's sessions."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from importlib import import_module
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.models import Device

# A change to the second factor needs a code entered in this session within this time.
REVERIFICATION_WINDOW = timedelta(minutes=10)

PENDING_DEVICE_SESSION_KEY = "mfa_pending_device_id"
VERIFIED_AT_SESSION_KEY = "mfa_verified_at"


@dataclass(frozen=True)
class SecondFactorProof:
    """What a session proves about its second factor: which device passed, and when (for re-verification)."""

    user_id: int
    device_id: str
    verified_at: datetime | None


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


def require_fresh_proof(*, user, proof: SecondFactorProof | None) -> None:
    """Refuse unless `proof` shows that `user` passed a still-confirmed device within REVERIFICATION_WINDOW."""
    if not is_fresh(proof, user):
        raise PermissionDenied("Enter a code from your authenticator app (or a recovery code) to confirm it is you.")
    device = Device.from_persistent_id(proof.device_id)
    if device is None or device.user_id != user.pk or not device.confirmed:
        raise PermissionDenied("Enter a code from your authenticator app (or a recovery code) to confirm it is you.")


def mark_session_verified(request, device: Device) -> None:
    """The session passed `device` now: django-otp's verified state, a new session key (no fixation across the
    step), and the time, which re-verification for sensitive changes reads."""
    otp_login(request, device)
    request.session.cycle_key()
    request.session[VERIFIED_AT_SESSION_KEY] = timezone.now().isoformat()


def end_sessions(user, *, keep_session_key: str | None = None) -> int:
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
