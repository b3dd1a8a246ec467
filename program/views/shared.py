"""Helpers the staff pages share: paging, the need-to-know refusal, advisories and levels named in URLs."""

from django.http import Http404
from django.shortcuts import get_object_or_404, render

from advisories.models import Advisory
from core.levels import AccessLevel

PER_PAGE = 25
LEVEL_SLUGS = {level.label: level for level in (AccessLevel.GENERIC, AccessLevel.STANDARD, AccessLevel.EARLY)}


def querystring(request) -> str:
    """The page's query without its page number, for the pagination links."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def advisory_or_404(identifier) -> Advisory:
    return get_object_or_404(Advisory, identifier=identifier)


def restricted(request, advisory):
    """Need-to-know: an unassigned manager learns that the advisory exists, nothing more."""
    return render(request, "program/advisories/restricted.html", {"advisory": advisory}, status=403)


def level_or_404(slug: str, allowed) -> AccessLevel:
    level = LEVEL_SLUGS.get(slug)
    if level not in allowed:
        raise Http404("No such level.")
    return level
