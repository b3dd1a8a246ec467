from django.contrib.auth.decorators import login_not_required, login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from core import mfa
from core.forms import SecondFactorForm
from core.health import readiness
from core.roles import is_compliance_officer, is_program_manager


@login_required
def home(request):
    """Send each person to their side of the portal: program managers and compliance officers to the program
    dashboard, other staff to the management site, partners to their dashboard."""
    if is_program_manager(request.user) or is_compliance_officer(request.user):
        return redirect("program:dashboard")
    if request.user.is_staff:
        return redirect(reverse("admin:index"))
    return redirect("advisories:dashboard")


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("home")


@login_required
@require_http_methods(["GET", "POST"])
def mfa_setup(request):
    """Enrol an authenticator app; on success show the recovery codes once."""
    if request.user.is_verified():
        return redirect(_next_url(request))
    device = mfa.pending_totp_device(request.user)
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = mfa.confirm_totp_device(request=request, device=device, token=form.cleaned_data["token"])
        if codes is not None:
            return render(request, "registration/mfa_recovery_codes.html", {"codes": codes, "next": _next_url(request)})
        form.add_error("token", "That code is not valid. Check your device's clock and enter the current code.")
    return render(
        request,
        "registration/mfa_setup.html",
        {
            "form": form,
            "secret": mfa.totp_secret_base32(device),
            "otpauth_url": device.config_url,
            "qr_svg": mfa.provisioning_qr_svg(device),
            "next": _next_url(request),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def mfa_verify(request):
    """The second step of every login: a TOTP code or a recovery code."""
    if request.user.is_verified():
        return redirect(_next_url(request))
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if mfa.verify_second_factor(request=request, token=form.cleaned_data["token"]):
            return redirect(_next_url(request))
        form.add_error("token", "That code is not valid, or has been used already.")
    return render(request, "registration/mfa_verify.html", {"form": form, "next": _next_url(request)})


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
