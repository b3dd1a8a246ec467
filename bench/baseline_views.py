"""Baseline pages for bench/pages.py and bench/load.sh: the same rows, template and bytes as the partner pages,
without entitlement, access records or personalisation. The list is the organisation's own deliveries, newest
first, a page at a time from the same position (`?before=`) as the portal lists them. Served only by
bench/settings.py's URL configuration, never by the portal."""

from types import SimpleNamespace

from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import include, path

from advisories.models import Advisory, Artifact
from advisories.selectors import delivery_list_page
from advisories.views import ADVISORIES_PER_PAGE, list_cursors
from core.levels import AccessLevel
from core.markdown import render_markdown
from partners.models import PartnerMembership


def _plain_access(request):
    """The user's organisation and role, without the entitlement facts (agreements, contracts, policies); the
    navigation reuses it, as it reuses the portal's resolved access."""
    membership = PartnerMembership.objects.select_related("partner").get(user=request.user, is_active=True)
    request.partner_access = SimpleNamespace(partner=membership.partner, membership=membership, level=AccessLevel.EARLY)
    return request.partner_access


@login_required
def plain_list(request):
    access = _plain_access(request)
    advisories = Advisory.objects.filter(deliveries__partner=access.partner).annotate(
        delivered_at=F("deliveries__delivered_at")
    )
    page = delivery_list_page(advisories, size=ADVISORIES_PER_PAGE, **list_cursors(request))
    return render(request, "advisories/list.html", {"access": access, "page": page, "search": ""})


@login_required
def plain_detail(request, identifier):
    advisory = get_object_or_404(Advisory.objects.prefetch_related("documents", "artifacts"), identifier=identifier)
    documents = [(document, render_markdown(document.body_markdown)) for document in advisory.documents.all()]
    return render(
        request,
        "advisories/detail.html",
        {"access": _plain_access(request), "advisory": advisory, "documents": documents, "banner": "TLP"},
    )


@login_required
def plain_download(request, identifier, artifact_id):
    artifact = get_object_or_404(Artifact, advisory__identifier=identifier, pk=artifact_id)

    def chunks():
        with artifact.file.open("rb") as stored:
            while chunk := stored.read(64 * 1024):
                yield chunk

    response = StreamingHttpResponse(chunks(), content_type=artifact.content_type)
    response["Content-Disposition"] = 'attachment; filename="file"'
    return response


urlpatterns = [
    path("bench/plain/", plain_list, name="plain-list"),
    path("bench/plain/<str:identifier>/", plain_detail, name="plain-detail"),
    path("bench/plain/<str:identifier>/<int:artifact_id>/", plain_download, name="plain-download"),
    path("", include("config.urls")),
]
