from django.shortcuts import redirect
from django.urls import reverse


class RequireMultiFactorMiddleware:
    """Every signed-in user must have passed a second factor (TOTP or a recovery code) in this session. Until then,
    the only pages they can reach are those that enrol or check the second factor, log out, and static files."""

    EXEMPT_URL_NAMES = ("mfa_setup", "mfa_verify", "logout", "login")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and not user.is_verified() and not self._exempt(request.path):
            from django_otp import user_has_device

            target = "mfa_verify" if user_has_device(user) else "mfa_setup"
            return redirect(f"{reverse(target)}?next={request.get_full_path()}")
        return self.get_response(request)

    def _exempt(self, path: str) -> bool:
        if path.startswith(("/static/", "/healthz", "/readyz")):
            return True
        return any(path == reverse(name) for name in self.EXEMPT_URL_NAMES)
