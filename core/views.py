from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import mfa, registry
from core.forms import AuthenticatorForm, NewAuthenticatorCodeForm, SecondFactorForm, show_service_error
from core.health import readiness
from core.http import client_ip


@login_required
def home(request):
    """Send each person to their side of the portal, as the apps registered it (core.registry.register_landing):
    program managers and compliance officers to the program dashboard, other staff to the management site,
    partners to their dashboard."""
    return redirect(registry.landing_url_name(request.user))


def _next_url(request, default: str = "") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default or reverse("home")


def _setup_page(request, template: str, device, form, **extra):
    return render(
        request,
        template,
        {
            "form": form,
            "secret": mfa.totp_secret_base32(device),
            "otpauth_url": device.config_url,
            "qr_svg": mfa.provisioning_qr_svg(device),
            "next": _next_url(request),
            **extra,
        },
        status=_refusal_status(form),
    )


def _session_pending_device(request, *, name: str = ""):
    """This session's own unconfirmed authenticator (created on first use and remembered in the session)."""
    device = mfa.start_authenticator_setup(
        user=request.user, pending_id=request.session.get(mfa.PENDING_DEVICE_SESSION_KEY), name=name
    )
    request.session[mfa.PENDING_DEVICE_SESSION_KEY] = device.pk
    return device


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def mfa_setup(request):
    """First enrolment of an authenticator app, for an account without any second factor; on success show the
    recovery codes once. An account that has one is sent to verify it (or, verified, to its Security page)."""
    if mfa.has_second_factor(request.user):
        return redirect("account_security" if request.user.is_verified() else "mfa_verify")
    device = _session_pending_device(request)
    form = NewAuthenticatorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = mfa.enrol_first_authenticator(
                user=request.user, device=device, token=form.cleaned_data["token"], ip_address=client_ip(request)
            )
        except mfa.CodeRefused as refusal:
            form.add_error("token", refusal)
        except ValidationError as error:
            show_service_error(form, error)
            # An expired or completed set-up: start afresh with a device of this session.
            request.session.pop(mfa.PENDING_DEVICE_SESSION_KEY, None)
            device = _session_pending_device(request)
        except PermissionDenied:
            return redirect("mfa_verify")
        else:
            request.session.pop(mfa.PENDING_DEVICE_SESSION_KEY, None)
            mfa.mark_session_verified(request, device)
            return render(request, "registration/mfa_recovery_codes.html", {"codes": codes, "next": _next_url(request)})
    return _setup_page(request, "registration/mfa_setup.html", device, form)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def mfa_verify(request):
    """The second step of every login: a TOTP code or a recovery code."""
    if request.user.is_verified():
        return redirect(_next_url(request))
    if not mfa.has_second_factor(request.user):
        return redirect("mfa_setup")
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = mfa.verify_second_factor(
                user=request.user, token=form.cleaned_data["token"], ip_address=client_ip(request)
            )
        except mfa.CodeRefused as refusal:
            form.add_error("token", refusal)
        else:
            mfa.mark_session_verified(request, device)
            return redirect(_next_url(request))
    return render(
        request,
        "registration/mfa_verify.html",
        {"form": form, "next": _next_url(request)},
        status=_refusal_status(form),
    )


def _refusal_status(form) -> int:
    if not form.errors:
        return 200
    waiting = any(error.code == "waiting" for error in form.errors.as_data().get("token", []))
    return 429 if waiting else 400


@login_required
@never_cache
@require_GET
def account_security(request):
    """The person's second factor: authenticator apps, recovery codes left, and the changes they can make."""
    return render(
        request,
        "registration/security.html",
        {
            "authenticators": mfa.authenticators(request.user),
            "recovery_codes_left": mfa.unused_recovery_code_count(request.user),
            "recently_verified": mfa.is_fresh(mfa.session_proof(request), request.user),
            "reverification_minutes": int(mfa.REVERIFICATION_WINDOW.total_seconds() // 60),
        },
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def account_reverify(request):
    """Confirm it is you (a current code or a recovery code) before a change to the second factor."""
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = mfa.verify_second_factor(
                user=request.user, token=form.cleaned_data["token"], ip_address=client_ip(request)
            )
        except mfa.CodeRefused as refusal:
            form.add_error("token", refusal)
        else:
            mfa.mark_session_verified(request, device)
            return redirect(_next_url(request, default=reverse("account_security")))
    return render(
        request,
        "registration/mfa_reverify.html",
        {"form": form, "next": _next_url(request, default=reverse("account_security"))},
        status=_refusal_status(form),
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
@mfa.reverification_required
def account_add_authenticator(request):
    """Add an authenticator app, or replace one (`replace` = its id): the new app's secret, then a code from it."""
    replacing = None
    replace_id = request.POST.get("replace") or request.GET.get("replace")
    if replace_id:
        replacing = next((d for d in mfa.authenticators(request.user) if str(d.pk) == replace_id), None)
        if replacing is None:
            raise Http404("No such authenticator.")
    form = AuthenticatorForm(request.POST or None)
    device = _session_pending_device(request, name=request.POST.get("name", ""))
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["name"] and form.cleaned_data["name"] != device.name:
            device.name = form.cleaned_data["name"]
            device.save(update_fields=["name"])
        try:
            mfa.add_authenticator(
                user=request.user,
                device=device,
                token=form.cleaned_data["token"],
                proof=mfa.session_proof(request),
                replacing=replacing,
                ip_address=client_ip(request),
                keep_session_key=request.session.session_key,
            )
        except PermissionDenied:
            return redirect(f"{reverse('account_reverify')}?next={reverse('account_security')}")
        except mfa.CodeRefused as refusal:
            form.add_error("token", refusal)
        except ValidationError as error:
            show_service_error(form, error)
            request.session.pop(mfa.PENDING_DEVICE_SESSION_KEY, None)
            device = _session_pending_device(request)
        else:
            request.session.pop(mfa.PENDING_DEVICE_SESSION_KEY, None)
            mfa.mark_session_verified(request, device)
            messages.success(
                request, f"{device.name} replaces {replacing.name}." if replacing else f"{device.name} was added."
            )
            return redirect("account_security")
    return _setup_page(request, "registration/mfa_add_authenticator.html", device, form, replacing=replacing)


@require_POST
@login_required
@mfa.reverification_required
def account_remove_authenticator(request, device_id):
    device = next((d for d in mfa.authenticators(request.user) if d.pk == device_id), None)
    if device is None:
        raise Http404("No such authenticator.")
    try:
        mfa.remove_authenticator(
            user=request.user,
            device=device,
            proof=mfa.session_proof(request),
            ip_address=client_ip(request),
            keep_session_key=request.session.session_key,
        )
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", None) or [str(error)]))
    else:
        messages.success(request, f"{device.name} was removed.")
    return redirect("account_security")


@require_POST
@login_required
@never_cache
@mfa.reverification_required
def account_recovery_codes(request):
    """New recovery codes, shown once; the old ones stop working."""
    try:
        codes = mfa.regenerate_recovery_codes(
            user=request.user,
            proof=mfa.session_proof(request),
            ip_address=client_ip(request),
            keep_session_key=request.session.session_key,
        )
    except PermissionDenied:
        return redirect(f"{reverse('account_reverify')}?next={reverse('account_security')}")
    return render(
        request, "registration/mfa_recovery_codes.html", {"codes": codes, "next": reverse("account_security")}
    )


@require_GET
@never_cache
@login_not_required
def healthz(request):
    """Liveness: the process answers. Touches no other service, so a database outage does not restart web nodes."""
    return JsonResponse({"status": "ok"})


@require_GET
@never_cache
@login_not_required
def readyz(request):
    """Readiness: database, broker and private storage reachable. 503 names the failed checks (causes are logged)."""
    checks = readiness()
    ready = all(checks.values())
    return JsonResponse(
        {
            "status": "ok" if ready else "unavailable",
            "checks": {name: "ok" if ok else "failed" for name, ok in checks.items()},
        },
        status=200 if ready else 503,
    )
