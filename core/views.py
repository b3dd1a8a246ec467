from django.contrib.auth.decorators import login_not_required, login_required
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.health import readiness


@login_required
def home(request):
    """Send each person to their side of the portal: staff to the management site, partners to their advisories."""
    if request.user.is_staff:
        return redirect(reverse("admin:index"))
    return redirect("advisories:list")


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
