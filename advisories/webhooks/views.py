"""Partner-admin pages of the portal: the organisation's webhook endpoints, their secrets and their event logs."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from advisories.models import WebhookEndpoint, WebhookEventType
from advisories.webhooks import selectors, services
from advisories.webhooks.forms import WebhookEndpointForm
from core.confirmation import confirmation_page, is_confirmed
from partners.token_views import partner_admin_view


def _no_store(response):
    # These pages may show a secret once: never cache them.
    response["Cache-Control"] = "private, no-store"
    return response


def _endpoint_of(membership, endpoint_id) -> WebhookEndpoint:
    # Another organisation's endpoint is a 404, as an unknown one.
    return get_object_or_404(WebhookEndpoint, pk=endpoint_id, partner=membership.partner)


@require_http_methods(["GET", "POST"])
@partner_admin_view
def webhook_endpoints(request, membership):
    form = WebhookEndpointForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = services.create_webhook_endpoint(
                actor=request.user, url=form.cleaned_data["url"], description=form.cleaned_data["description"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            created = {"endpoint": endpoint, "secret": secret}
            form = WebhookEndpointForm()
    context = {
        "partner": membership.partner,
        "endpoints": selectors.webhook_endpoints_of(membership.partner),
        "form": form,
        "created": created,
        "event_types": WebhookEventType.choices,
    }
    return _no_store(render(request, "advisories/webhooks/endpoints.html", context))


@require_GET
@partner_admin_view
def webhook_endpoint(request, membership, endpoint_id):
    endpoint = _endpoint_of(membership, endpoint_id)
    context = {"partner": membership.partner, "endpoint": endpoint, "log": selectors.webhook_log(endpoint)}
    return _no_store(render(request, "advisories/webhooks/endpoint.html", context))


@require_POST
@partner_admin_view
def rotate_webhook_secret(request, membership, endpoint_id):
    endpoint = _endpoint_of(membership, endpoint_id)
    back = reverse("advisories:webhook", args=[endpoint.pk])
    if not is_confirmed(request):
        return confirmation_page(
            request,
            title=f"Rotate the secret of {endpoint.url}?",
            consequences=[
                "A new secret is shown once. Events are signed with both the new and the current secret for a grace "
                "period, so your receiver can switch without missing one; after it only the new secret signs."
            ],
            confirm_label="Rotate the secret",
            back_url=back,
        )
    try:
        endpoint, secret = services.rotate_webhook_secret(actor=request.user, endpoint=endpoint)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(back)
    context = {
        "partner": membership.partner,
        "endpoint": endpoint,
        "secret": secret,
        "log": selectors.webhook_log(endpoint),
    }
    return _no_store(render(request, "advisories/webhooks/endpoint.html", context))


@require_POST
@partner_admin_view
def send_test_webhook(request, membership, endpoint_id):
    endpoint = _endpoint_of(membership, endpoint_id)
    try:
        message = services.send_test_event(actor=request.user, endpoint=endpoint)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Test event {message.webhook_id} queued; its attempts appear below.")
    return redirect("advisories:webhook", endpoint.pk)


@require_POST
@partner_admin_view
def disable_webhook_endpoint(request, membership, endpoint_id):
    endpoint = _endpoint_of(membership, endpoint_id)
    if not is_confirmed(request):
        return confirmation_page(
            request,
            title=f"Disable {endpoint.url}?",
            consequences=["No event is sent to it until it is enabled again; events still pending are cancelled."],
            confirm_label="Disable the endpoint",
            back_url=reverse("advisories:webhook", args=[endpoint.pk]),
        )
    services.disable_webhook_endpoint(actor=request.user, endpoint=endpoint)
    messages.success(request, f"{endpoint.url} is disabled.")
    return redirect("advisories:webhook", endpoint.pk)


@require_POST
@partner_admin_view
def enable_webhook_endpoint(request, membership, endpoint_id):
    endpoint = _endpoint_of(membership, endpoint_id)
    try:
        services.enable_webhook_endpoint(actor=request.user, endpoint=endpoint)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{endpoint.url} is enabled: later events are sent to it.")
    return redirect("advisories:webhook", endpoint.pk)


@require_POST
@partner_admin_view
def delete_webhook_endpoint(request, membership, endpoint_id):
    endpoint = _endpoint_of(membership, endpoint_id)
    if not is_confirmed(request):
        return confirmation_page(
            request,
            title=f"Delete the webhook endpoint {endpoint.url}?",
            consequences=["No event is sent to it any more, and its event log is deleted. This cannot be undone."],
            confirm_label="Delete the endpoint",
            back_url=reverse("advisories:webhook", args=[endpoint.pk]),
        )
    url = endpoint.url
    services.delete_webhook_endpoint(actor=request.user, endpoint=endpoint)
    messages.success(request, f"The webhook endpoint {url} is deleted.")
    return redirect("advisories:webhooks")
