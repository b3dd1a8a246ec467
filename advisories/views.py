from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from advisories import selectors, serving
from compliance.entitlements import partner_access
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
    served = serving.serve_advisory(request=request, access=access, identifier=identifier)
    documents = [(document, render_markdown(document.body_markdown)) for document in served.advisory.documents.all()]
    return render(
        request,
        "advisories/detail.html",
        {"access": access, "advisory": served.advisory, "documents": documents, "banner": served.banner},
    )


@require_GET
@partner_view
def artifact_download(request, access, identifier, artifact_id):
    return serving.serve_artifact(request=request, access=access, identifier=identifier, artifact_id=artifact_id)


@require_GET
@partner_view
def csaf_download(request, access, identifier):
    return serving.serve_csaf(request=request, access=access, identifier=identifier)
