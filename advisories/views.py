from datetime import datetime
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from advisories import selectors, services, serving
from advisories.forms import (
    HandlingAcknowledgementForm,
    NoticePreferenceForm,
)
from advisories.handling import HANDLING_TERMS, TLP_MEANING
from advisories.protection import selectors as protection_selectors
from compliance.entitlements import partner_access
from core.access import member_view
from core.clock import embargo_now
from core.http import client_ip, user_agent
from core.levels import AccessLevel
from core.markdown import render_markdown

ADVISORIES_PER_PAGE = 25
NEXT_STEP_SIGNING = ("sign", "ask_admin")


def partner_view(view=None, *, landing: bool = False):
    """Partner pages: log in first; anyone who is not an active partner member gets 404 (staff included); members of
    an organisation without access get a clear refusal. A `landing` page (the advisory list, where the navigation
    and the first login lead) sends an organisation that has yet to sign its agreements to the dashboard, which
    says what to do next, instead of refusing."""
    if view is None:
        return lambda view: partner_view(view, landing=landing)

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        access = partner_access(request.user)
        if access is None:
            raise Http404("No such page.")
        request.partner_access = access  # the navigation reuses it
        if access.level == AccessLevel.NONE:
            if landing:
                step = selectors.next_step(access=access, at=embargo_now())
                if step is not None and step.kind in NEXT_STEP_SIGNING:
                    return redirect("advisories:dashboard")
            return render(request, "advisories/no_access.html", {"partner": access.partner}, status=403)
        return view(request, access, *args, **kwargs)

    return wrapper


@require_GET
@partner_view(landing=True)
def advisory_list(request, access):
    """Newest delivery first, a page at a time: the Older and Newer links carry the position of the page's last or
    first row (no page numbers, no count of the whole list). A position that is not one (a cut or edited link)
    answers 400 with the newest page and says so."""
    search = request.GET.get("q", "")
    try:
        cursors = list_cursors(request)
    except ValueError:
        cursors, status = {}, 400
    else:
        status = 200
    page = selectors.advisory_list_page_for_partner(access=access, search=search, size=ADVISORIES_PER_PAGE, **cursors)
    context = {"access": access, "page": page, "search": search, "invalid_position": status == 400}
    return render(request, "advisories/list.html", context, status=status)


def list_cursors(request) -> dict[str, selectors.ListCursor]:
    """The `before` or `after` position a list link carries (not both); ValueError for one that is not valid."""
    given = {name: request.GET[name] for name in ("before", "after") if name in request.GET}
    if len(given) > 1:
        raise ValueError("a list position is older or newer than a row, not both")
    return {name: selectors.ListCursor.from_token(token) for name, token in given.items()}


@require_GET
@partner_view
def advisory_detail(request, access, identifier):
    advisory = selectors.advisory_for_partner(access=access, identifier=identifier, reader=request.user)
    if not advisory.handling_acknowledged:
        return to_acknowledgement(advisory)
    served = serving.serve_released_advisory(request=request, access=access, advisory=advisory)
    documents = [(document, render_markdown(document.body_markdown)) for document in served.documents]
    return render(
        request,
        "advisories/detail.html",
        {
            "access": access,
            "advisory": served.advisory,
            "documents": documents,
            "banner": served.banner,
            "protection": protection_selectors.protection_status_for_partner(access=access, advisory=served.advisory),
        },
    )


@require_GET
@partner_view
def artifact_download(request, access, identifier, artifact_id):
    # Looked up once, 404 first: the file, its advisory and the reader's acknowledgement in one query.
    artifact = selectors.artifact_for_partner(
        access=access, identifier=identifier, artifact_id=artifact_id, reader=request.user
    )
    if not artifact.handling_acknowledged:
        return to_acknowledgement(artifact.advisory, return_to=request.path)
    try:
        return serving.serve_released_artifact(request=request, access=access, artifact=artifact)
    except serving.ArtifactUnavailable:
        return render(request, "advisories/artifact_unavailable.html", {"identifier": identifier}, status=503)


@require_GET
@partner_view
def csaf_download(request, access, identifier):
    acknowledgement_first = acknowledgement_redirect(request, access, identifier, return_to=request.path)
    if acknowledgement_first is not None:
        return acknowledgement_first
    return serving.serve_csaf(request=request, access=access, identifier=identifier)


@require_GET
@partner_view
def stix_download(request, access, identifier):
    acknowledgement_first = acknowledgement_redirect(request, access, identifier, return_to=request.path)
    if acknowledgement_first is not None:
        return acknowledgement_first
    return serving.serve_stix(request=request, access=access, identifier=identifier)


def acknowledgement_redirect(request, access, identifier, return_to=None):
    """Portal users acknowledge an advisory's TLP label and handling terms once, before they open it or any of its
    files (404 first for anything not released to them). None when already done."""
    advisory = selectors.released_advisory_for_partner(access=access, identifier=identifier)
    if selectors.has_acknowledged_handling(user=request.user, advisory=advisory):
        return None
    return to_acknowledgement(advisory, return_to=return_to)


def to_acknowledgement(advisory, return_to=None):
    """The redirect to the advisory's handling terms, back to `return_to` (default: the advisory page) after."""
    target = reverse("advisories:acknowledge", args=[advisory.identifier])
    return redirect(f"{target}?{urlencode({'next': return_to})}" if return_to else target)


NOTICES_PER_PAGE = 50


@require_GET
@member_view
def notice_inbox(request, access):
    page = Paginator(selectors.notices_for_user(user=request.user), NOTICES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "advisories/notices.html", {"access": access, "page": page})


@require_POST
@member_view
def notice_mark_read(request, access):
    notice_id = request.POST.get("notice")
    services.mark_notices_read(
        user=request.user, notice_ids=[int(notice_id)] if notice_id and notice_id.isdigit() else None
    )
    return redirect("advisories:notices")


@require_http_methods(["GET", "POST"])
@member_view
def notice_preferences(request, access):
    form = NoticePreferenceForm(
        request.POST or None, initial={"email_mode": selectors.notice_preference(user=request.user)}
    )
    if request.method == "POST" and form.is_valid():
        services.set_notice_preference(user=request.user, email_mode=form.cleaned_data["email_mode"])
        messages.success(request, "Your email preference is saved.")
        return redirect("advisories:notices")
    return render(request, "advisories/notice_preferences.html", {"access": access, "form": form})


@require_http_methods(["GET", "POST"])
@partner_view
def advisory_acknowledge(request, access, identifier):
    """Before a partner user first opens an advisory (or one of its files): its TLP label and handling terms,
    acknowledged once."""
    advisory = selectors.released_advisory_for_partner(access=access, identifier=identifier)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=False):
        next_url = ""
    next_url = next_url or reverse("advisories:detail", args=[advisory.identifier])
    if selectors.has_acknowledged_handling(user=request.user, advisory=advisory):
        return redirect(next_url)
    form = HandlingAcknowledgementForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.acknowledge_handling(
            access=access,
            user=request.user,
            advisory=advisory,
            ip_address=client_ip(request),
            user_agent=user_agent(request),
        )
        return redirect(next_url)
    return render(
        request,
        "advisories/acknowledge.html",
        {
            "access": access,
            "advisory": advisory,
            "form": form,
            "next": next_url,
            "tlp_meaning": TLP_MEANING[advisory.tlp],
            "handling_terms": HANDLING_TERMS,
        },
        status=400 if form.is_bound else 200,
    )


LAST_VISIT_SESSION_KEY = "portal_dashboard_since"


@require_GET
@member_view
def dashboard(request, access):
    """The partner's landing page. "New" means delivered since the previous visit; the reference stays fixed for
    the whole session, so reloading the page does not hide what was new when the session began."""
    now = embargo_now()
    previous = services.record_portal_visit(user=request.user, at=now)
    if LAST_VISIT_SESSION_KEY not in request.session:
        request.session[LAST_VISIT_SESSION_KEY] = previous.isoformat() if previous else ""
    since_text = request.session[LAST_VISIT_SESSION_KEY]
    since = datetime.fromisoformat(since_text) if since_text else None
    board = selectors.partner_dashboard(access=access, user=request.user, since=since, at=now)
    return render(request, "advisories/dashboard.html", {"access": access, "board": board})
