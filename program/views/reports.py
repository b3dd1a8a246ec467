"""Reports and CSV exports (/program/reports/) and the distribution record of one advisory."""

from datetime import UTC, datetime, time, timedelta

from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from advisories.models import Advisory
from advisories.need_to_know import can_view_content
from core.access import program_staff_view
from core.csv_export import streamed_csv
from core.levels import AccessLevel
from program import forms, selectors
from program.views.shared import querystring


def _report_filters(request) -> tuple[forms.ReportFilterForm, dict]:
    form = forms.ReportFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    since, until = data.get("since"), data.get("until")
    return form, {
        "advisory": data.get("advisory", ""),
        "partner_id": data["partner"].pk if data.get("partner") else None,
        "since": datetime.combine(since, time.min, tzinfo=UTC) if since else None,
        "until": datetime.combine(until + timedelta(days=1), time.min, tzinfo=UTC) if until else None,
    }


@require_GET
@program_staff_view
def reports(request):
    """The report filters, what they match, and the CSV exports of the matching rows."""
    form, filters = _report_filters(request)
    named = Advisory.objects.filter(identifier__iexact=filters["advisory"]).first() if filters["advisory"] else None
    context = {
        "form": form,
        "named_advisory": named,
        "querystring": querystring(request),
        "delivery_count": selectors.deliveries_report(**filters).count(),
        "download_count": selectors.download_events_report(**filters).count(),
    }
    return render(request, "program/reports.html", context)


def _timestamp(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


@require_GET
@program_staff_view
def partners_csv(request):
    """The partner list as CSV, with the partner list's filters (one export, every page)."""
    form = forms.PartnerFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    partners = list(
        selectors.partner_list(
            search=filters.get("q", ""),
            status=filters.get("status", ""),
            assigned_level=filters.get("assigned_level"),
            effective_level=filters.get("effective_level"),
            country=filters.get("country", ""),
        )
    )
    rows = (
        (
            partner.pk,
            partner.legal_name,
            partner.trading_name,
            partner.country.code,
            partner.get_status_display(),
            partner.get_assigned_level_display(),
            AccessLevel(partner.effective_level).label,
            partner.active_members,
            _timestamp(partner.suspended_until),
        )
        for partner in selectors.with_effective_levels(partners)
    )
    header = (
        "id",
        "legal name",
        "trading name",
        "country",
        "status",
        "assigned level",
        "effective level",
        "active members",
        "suspended until (UTC)",
    )
    return streamed_csv(filename=f"forewarn-partners-{timezone.now():%Y%m%d}.csv", header=header, rows=rows)


CSV_CHUNK = 2000


@require_GET
@program_staff_view
def deliveries_csv(request):
    _form, filters = _report_filters(request)
    rows = (
        (
            delivery.pk,
            delivery.advisory.identifier,
            delivery.partner.legal_name,
            delivery.partner.country.code,
            delivery.get_level_display(),
            _timestamp(delivery.delivered_at),
            _timestamp(delivery.notified_at),
        )
        for delivery in selectors.deliveries_report(**filters).iterator(chunk_size=CSV_CHUNK)
    )
    header = ("delivery", "advisory", "organisation", "country", "level", "delivered (UTC)", "notified (UTC)")
    return streamed_csv(filename=f"forewarn-deliveries-{timezone.now():%Y%m%d}.csv", header=header, rows=rows)


@require_GET
@program_staff_view
def downloads_csv(request):
    _form, filters = _report_filters(request)
    rows = (
        (
            event.pk,
            _timestamp(event.created_at),
            event.advisory.identifier,
            event.artifact.name if event.artifact else "",
            event.get_kind_display(),
            event.partner.legal_name,
            event.user.email,
            event.delivery_id or "",
            event.ip_address or "",
            event.user_agent,
        )
        for event in selectors.download_events_report(**filters).iterator(chunk_size=CSV_CHUNK)
    )
    header = (
        "event",
        "time (UTC)",
        "advisory",
        "file",
        "kind",
        "organisation",
        "user",
        "delivery",
        "IP address",
        "user agent",
    )
    return streamed_csv(filename=f"forewarn-downloads-{timezone.now():%Y%m%d}.csv", header=header, rows=rows)


@require_GET
@program_staff_view
def distribution_report(request, identifier):
    """A printable record of one advisory's distribution. Need-to-know: a program manager who may not open the
    advisory yet (not assigned, not released) is refused unless also a compliance officer."""
    advisory = get_object_or_404(Advisory, identifier=identifier)
    if not can_view_content(request.user, advisory, compliance_officers=True):
        return render(request, "program/advisories/restricted.html", {"advisory": advisory}, status=403)
    report = selectors.distribution_report(advisory)
    return render(request, "program/distribution_report.html", {"report": report, "at": timezone.now()})
