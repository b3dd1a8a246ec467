from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from advisories import selectors, services
from advisories.models import AccessKind
from advisories.personalisation import fingerprinted_markdown, issued_to_banner, personalised_chunks
from compliance.entitlements import partner_access
from core.http import client_ip, user_agent
from core.levels import AccessLevel
from core.markdown import render_markdown

ADVISORIES_PER_PAGE = 25


def partner_view(view):
    """Partner pages: log in first; anyone who is not an active partner member gets 404 (staff included); members of
    an organisation without access get a clear refusal."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        access = partner_access(request.user)
        if access is None:
            raise Http404("No such page.")
        if access.level == AccessLevel.NONE:
            return render(request, "advisories/no_access.html", {"partner": access.partner}, status=403)
        return view(request, access, *args, **kwargs)

    return wrapper


@require_GET
@partner_view
def advisory_list(request, access):
    search = request.GET.get("q", "")
    advisories = selectors.advisories_for_partner(access=access, search=search)
    page = Paginator(advisories, ADVISORIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "advisories/list.html", {"access": access, "page": page, "search": search})


@require_GET
@partner_view
def advisory_detail(request, access, identifier):
    advisory = selectors.advisory_for_partner(access=access, identifier=identifier)
    event = services.record_access(
        access=access,
        user=request.user,
        advisory=advisory,
        kind=AccessKind.VIEW,
        ip_address=client_ip(request),
        user_agent=user_agent(request),
    )
    documents = [
        (
            document,
            render_markdown(fingerprinted_markdown(document.body_markdown, delivery=event.delivery, user=request.user)),
        )
        for document in advisory.documents.all()
    ]
    banner = issued_to_banner(
        delivery=event.delivery, partner=access.partner, user=request.user, tlp_label=advisory.get_tlp_display()
    )
    return render(
        request,
        "advisories/detail.html",
        {"access": access, "advisory": advisory, "documents": documents, "banner": banner},
    )


@require_GET
@partner_view
def artifact_download(request, access, identifier, artifact_id):
    artifact = selectors.artifact_for_partner(access=access, identifier=identifier, artifact_id=artifact_id)
    event = services.record_access(
        access=access,
        user=request.user,
        advisory=artifact.advisory,
        artifact=artifact,
        kind=AccessKind.DOWNLOAD,
        ip_address=client_ip(request),
        user_agent=user_agent(request),
    )
    banner = issued_to_banner(
        delivery=event.delivery,
        partner=access.partner,
        user=request.user,
        tlp_label=artifact.advisory.get_tlp_display(),
    )
    response = StreamingHttpResponse(
        personalised_chunks(artifact, banner, delivery=event.delivery, user=request.user),
        content_type=artifact.content_type,
    )
    filename = artifact.file.name.rsplit("/", 1)[-1]
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["X-Forewarn-Delivery"] = str(event.delivery_id or "")
    return response
