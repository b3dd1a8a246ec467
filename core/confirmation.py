"""A confirmation step for destructive actions that works without JavaScript (the content security policy allows
no inline script): the action's form posts once; the view, after validating it, answers with a page that says what
will happen and posts the same fields again with `confirmed=yes`. Nothing changes until then."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

CONFIRMED_FIELD = "confirmed"
NOT_CARRIED = ("csrfmiddlewaretoken", CONFIRMED_FIELD)


def is_confirmed(request: HttpRequest) -> bool:
    return request.POST.get(CONFIRMED_FIELD) == "yes"


def confirmation_page(
    request: HttpRequest,
    *,
    title: str,
    consequences: list[str],
    confirm_label: str,
    back_url: str,
    summary: list[tuple[str, str]] | None = None,
) -> HttpResponse:
    """The page asking to confirm the POST just received: what will happen, the values entered, and the same
    form again (hidden fields) with a button that confirms and a link back that changes nothing."""
    carried = [(name, value) for name, values in request.POST.lists() if name not in NOT_CARRIED for value in values]
    context = {
        "title": title,
        "consequences": consequences,
        "confirm_label": confirm_label,
        "back_url": back_url,
        "summary": summary or [],
        "carried": carried,
        "action": request.get_full_path(),
    }
    return render(request, "core/confirm.html", context)
