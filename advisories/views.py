from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from advisories import selectors, services
from advisories.forms import HandlingAcknowledgementForm, NoticePreferenceForm
from advisories.handling import HANDLING_TERMS, TLP_MEANING
from advisories.models import AccessKind
from advisories.personalisation import issued_to_banner, personalised_chunks
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
    if not selectors.has_acknowledged_handling(user=request.user, advisory=advisory):
        return redirect("advisories:acknowledge", identifier)
    event = services.record_access(
        access=access,
        user=request.user,
        advisory=advisory,
        kind=AccessKind.VIEW,
        ip_address=client_ip(request),
        user_agent=user_agent(request),
    )
    documents = [(document, render_markdown(document.body_markdown)) for document in advisory.documents.all()]
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
    if not selectors.has_acknowledged_handling(user=request.user, advisory=artifact.advisory):
        return redirect(f"{reverse('advisories:acknowledge', args=[identifier])}?{urlencode({'next': request.path})}")
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
    response = StreamingHttpResponse(personalised_chunks(artifact, banner), content_type=artifact.content_type)
    filename = artifact.file.name.rsplit("/", 1)[-1]
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["X-Forewarn-Delivery"] = str(event.delivery_id or "")
    return response


def member_view(view):
    """Pages every active member of a partner organisation may use, whatever its level (the inbox tells a
    suspended organisation's people what happened); 404 for anyone else, staff included."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        access = partner_access(request.user)
        if access is None:
            raise Http404("No such page.")
        return view(request, access, *args, **kwargs)

    return wrapper


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
