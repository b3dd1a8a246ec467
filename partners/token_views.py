"""Partner-admin pages of the portal: the organisation's API tokens."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from core import access
from core.confirmation import confirmation_page, is_confirmed
from partners import selectors, services
from partners.forms import ApiTokenForm
from partners.models import ApiToken, MemberRole


def _not_an_admin(membership) -> str | None:
    return None if membership.role == MemberRole.ADMIN else "Only partner admins may open this page."


# Pages for partner admins (API tokens, webhooks): 404 for staff and people outside any organisation, 403 for
# analysts.
partner_admin_view = access.partner_admin_view(refusal=_not_an_admin)


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
