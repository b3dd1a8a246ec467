"""Program managers' release pages (/program/advisories/): the release plan, its cancellation, withdrawal,
release status per wave, and the release calendar."""

import calendar
from datetime import UTC, datetime, timedelta

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from advisories import forms, selectors, services
from advisories.models import ReleaseWave, WaveStatus
from core.access import manager_view, run_service
from core.confirmation import confirmation_page, is_confirmed
from core.levels import AccessLevel
from program.views.shared import LEVEL_SLUGS, advisory_or_404, level_or_404, restricted

CALENDAR_PER_PAGE = 50
DELIVERIES_PER_PAGE = 100


@require_http_methods(["GET", "POST"])
@manager_view
def release_plan(request, identifier):
    advisory = advisory_or_404(identifier)
    if not selectors.is_assigned_manager(request.user, advisory):
        return restricted(request, advisory)
    waves = {w.level: w for w in advisory.waves.exclude(status=WaveStatus.CANCELLED)}
    initial = {
        "early_at": getattr(waves.get(AccessLevel.EARLY), "scheduled_at", None),
        "standard_at": getattr(waves.get(AccessLevel.STANDARD), "scheduled_at", None),
        "public_release_at": advisory.public_release_at,
    }
    form = forms.ReleasePlanForm(request.POST or None, initial=initial)
    if (
        request.method == "POST"
        and form.is_valid()
        and run_service(
            request,
            lambda: services.set_release_plan(actor=request.user, advisory=advisory, **form.cleaned_data),
            f"The release plan of {advisory.identifier} is scheduled.",
            form=form,
        )
    ):
        return redirect("program_advisories:detail", advisory.identifier)
    released = sorted(w.get_level_display() for w in waves.values() if w.status == WaveStatus.RELEASED)
    context = {
        "form": form,
        "advisory": advisory,
        "released": released,
        "warnings": services.release_plan_warnings(advisory, now=timezone.now()),
    }
    return render(request, "program/advisories/plan.html", context)


@require_POST
@manager_view
def release_plan_cancel(request, identifier):
    advisory = advisory_or_404(identifier)
    if not selectors.is_assigned_manager(request.user, advisory):
        return restricted(request, advisory)
    if not is_confirmed(request):
        return confirmation_page(
            request,
            title=f"Cancel the release plan of {advisory.identifier}?",
            consequences=[
                "Every wave still to come is cancelled: nothing of this advisory will be released.",
                "The advisory returns to draft; you can schedule a new plan later.",
            ],
            confirm_label="Cancel the plan",
            back_url=reverse("program_advisories:detail", args=[advisory.identifier]),
        )
    run_service(
        request,
        lambda: services.cancel_release_plan(actor=request.user, advisory=advisory),
        f"The release plan of {advisory.identifier} is cancelled; it is a draft again.",
    )
    return redirect("program_advisories:detail", advisory.identifier)


@require_http_methods(["GET", "POST"])
@manager_view
def advisory_withdraw(request, identifier):
    advisory = advisory_or_404(identifier)
    if not selectors.is_assigned_manager(request.user, advisory):
        return restricted(request, advisory)
    form = forms.WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not is_confirmed(request):
            return confirmation_page(
                request,
                title=f"Withdraw {advisory.identifier}?",
                consequences=[
                    "The waves still to come are cancelled and every partner's access ends at once.",
                    "The people of each organisation that received it are notified, with your reason.",
                    "This cannot be undone.",
                ],
                summary=[("Reason", form.cleaned_data["reason"])],
                confirm_label="Withdraw the advisory",
                back_url=reverse("program_advisories:detail", args=[advisory.identifier]),
            )
        if run_service(
            request,
            lambda: services.withdraw_advisory(
                actor=request.user, advisory=advisory, reason=form.cleaned_data["reason"]
            ),
            f"{advisory.identifier} is withdrawn; partners are notified.",
            form=form,
        ):
            return redirect("program_advisories:detail", advisory.identifier)
    return render(request, "program/advisories/withdraw.html", {"form": form, "advisory": advisory})


@require_GET
@manager_view
def wave_status(request, identifier, level):
    advisory = advisory_or_404(identifier)
    if not selectors.can_view_content(request.user, advisory):
        return restricted(request, advisory)
    wave = get_object_or_404(ReleaseWave, advisory=advisory, level=level_or_404(level, LEVEL_SLUGS.values()))
    context = {"advisory": advisory, "wave": wave}
    if wave.status == WaveStatus.SCHEDULED:
        rows = selectors.release_preview(wave=wave)
        context["preview_at"] = timezone.now()
        context["recipients"] = [row for row in rows if row.receives]
        context["refused"] = [row for row in rows if not row.receives]
    else:
        deliveries = selectors.wave_deliveries(wave=wave)
        context["page"] = Paginator(deliveries, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
        context["progress"] = selectors.wave_progress(wave=wave)
    return render(request, "program/advisories/wave.html", context)


def _month(value: str | None) -> datetime:
    try:
        return datetime.strptime(value or "", "%Y-%m").replace(tzinfo=UTC)
    except ValueError:
        return timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@require_GET
@manager_view
def release_calendar(request):
    """Month view (UTC days) of every scheduled and released wave; titles only for advisories one may open."""
    start = _month(request.GET.get("month"))
    end = (start + timedelta(days=32)).replace(day=1)
    waves = list(selectors.waves_between(start=start, end=end))
    visible = selectors.content_visible_advisory_ids(request.user, [w.advisory for w in waves])
    by_day: dict[int, list] = {}
    for wave in waves:
        by_day.setdefault(wave.scheduled_at.day, []).append(wave)
    weeks = [
        [(day, by_day.get(day, [])) if day else (None, []) for day in week]
        for week in calendar.Calendar(firstweekday=0).monthdayscalendar(start.year, start.month)
    ]
    previous = (start - timedelta(days=1)).replace(day=1)
    context = {
        "month": start,
        "weeks": weeks,
        "visible": visible,
        "previous": f"{previous:%Y-%m}",
        "next": f"{end:%Y-%m}",
        "list_url": reverse("program_advisories:calendar_list"),
    }
    return render(request, "program/advisories/calendar.html", context)


@require_GET
@manager_view
def release_calendar_list(request):
    page = Paginator(selectors.upcoming_waves(), CALENDAR_PER_PAGE).get_page(request.GET.get("page"))
    visible = selectors.content_visible_advisory_ids(request.user, [w.advisory for w in page])
    return render(request, "program/advisories/calendar_list.html", {"page": page, "visible": visible})
