from urllib.parse import quote

from django.shortcuts import redirect
from django.urls import reverse


class LivenessMiddleware:
    """Answer `/healthz` before any other middleware runs: no session (a probe sending a cookie would otherwise
    read and save it in the database), no user, no redirect. Liveness must not depend on anything outside the
    process, or an outage of the database would make the orchestrator restart every healthy web node."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == reverse("healthz"):
            from core.views import healthz

            return healthz(request)
        return self.get_response(request)


class RequireMultiFactorMiddleware:
    """Every signed-in user must have passed a second factor (TOTP or a recovery code) in this session. Until then
    they reach only the one page of their second step — enrolment while the account has no second factor at all,
    verification once it has one (so a password alone never reaches enrolment for an enrolled account) — plus
    login, logout, health checks and static files."""

    ALWAYS_OPEN_URL_NAMES = ("logout", "login")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and not user.is_verified() and not self._always_open(request.path):
            from core.mfa import has_second_factor

            target = reverse("mfa_verify" if has_second_factor(user) else "mfa_setup")
            if request.path != target:
                return redirect(f"{target}?next={quote(request.get_full_path())}")
        return self.get_response(request)

    def _always_open(self, path: str) -> bool:
        if path.startswith(("/static/", "/healthz", "/readyz")):
            return True
        return any(path == reverse(name) for name in self.ALWAYS_OPEN_URL_NAMES)
