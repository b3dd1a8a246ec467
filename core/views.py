from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse


@login_required
def home(request):
    """Send each person to their side of the portal: staff to the management site, partners to their advisories."""
    if request.user.is_staff:
        return redirect(reverse("admin:index"))
    return redirect("advisories:list")
