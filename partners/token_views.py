"""Partner-admin pages of the portal: the organisation's API tokens."""

from datetime import timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from core.confirmation import confirmation_page, is_confirmed
from partners import selectors, services
from partners.forms import ApiTokenForm
from partners.models import ApiToken, PartnerMembership


def partner_admin_view(view):
    """Pages for partner admins (API tokens, webhooks): 404 for staff and people outside any organisation, 403 for
    analysts."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        membership = selectors.admin_membership(request.user)
        if membership is None:
            if (
                request.user.is_staff
                or not PartnerMembership.objects.filter(user=request.user, is_active=True).exists()
            ):
                raise Http404("No such page.")
            raise PermissionDenied("Only partner admins may open this page.")
        return view(request, membership, *args, **kwargs)

    return wrapper


@require_http_methods(["GET", "POST"])
@partner_admin_view
def api_tokens(request, membership):
    form = ApiTokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = services.create_api_token(
                actor=request.user,
                name=form.cleaned_data["name"],
                expires_at=timezone.now() + timedelta(days=form.cleaned_data["expires_in_days"]),
                scope=form.cleaned_data["scope"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            created = {"token": token, "secret": secret}
            form = ApiTokenForm()
    response = render(
        request,
        "partners/api_tokens.html",
        {
            "partner": membership.partner,
            "tokens": selectors.api_tokens_of(membership.partner),
            "form": form,
            "created": created,
            "api_list_url": request.build_absolute_uri(reverse("api:advisories")),
            "now": timezone.now(),
        },
    )
    # The page may show a secret once: never cache it.
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@partner_admin_view
def revoke_api_token(request, membership, token_id):
    token = get_object_or_404(ApiToken, pk=token_id, partner=membership.partner)
    if not is_confirmed(request):
        return confirmation_page(
            request,
            title=f"Revoke the token “{token.name}” ({token.prefix}…)?",
            consequences=["Every system using it is refused from now on. A revoked token cannot be restored."],
            confirm_label="Revoke the token",
            back_url=reverse("advisories:api_tokens"),
        )
    services.revoke_api_token(actor=request.user, token=token)
    messages.success(request, f"Token “{token.name}” ({token.prefix}…) is revoked; it is refused from now on.")
    return redirect("advisories:api_tokens")
