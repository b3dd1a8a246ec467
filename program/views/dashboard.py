"""The program dashboard (/program/)."""

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from core.access import program_staff_view
from program import charts
from program import dashboard as dashboard_reads


@require_GET
@program_staff_view
def dashboard(request):
    """The program at a glance: organisations, the next 30 days, downloads, expiring agreements, the release
    pipeline, open compliance work. Every figure is read at one instant."""
    at = timezone.now()
    first_day, download_series = dashboard_reads.downloads_per_advisory(at=at)
    context = {
        "at": at,
        "status_chart": charts.bar_chart(dashboard_reads.partners_by_status()),
        "level_chart": charts.bar_chart(dashboard_reads.partners_by_effective_level(at)),
        "country_chart": charts.bar_chart(dashboard_reads.partners_by_country()),
        "upcoming": dashboard_reads.upcoming_releases(user=request.user, at=at),
        "downloads_since": first_day,
        "downloads": [(series, charts.sparkline_points(series.daily)) for series in download_series],
        "spark": {"width": charts.SPARK_WIDTH, "height": charts.SPARK_HEIGHT},
        "expiring": dashboard_reads.expiring_agreements(at),
        "pipeline": dashboard_reads.release_pipeline(at),
        "compliance": dashboard_reads.compliance_work(at),
    }
    return render(request, "program/dashboard.html", context)
