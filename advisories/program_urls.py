from django.urls import path

from advisories import program_views as views

app_name = "program_advisories"

urlpatterns = [
    path("", views.advisory_list, name="list"),
    path("new/", views.advisory_create, name="create"),
    path("preview/", views.markdown_preview, name="preview"),
    path("variant-proposals/", views.variant_proposals, name="variant_proposals"),
    path("calendar/", views.release_calendar, name="calendar"),
    path("calendar/upcoming/", views.release_calendar_list, name="calendar_list"),
    path("<str:identifier>/", views.advisory_detail, name="detail"),
    path("<str:identifier>/edit/", views.advisory_edit, name="edit"),
    path("<str:identifier>/documents/<str:level>/", views.document_edit, name="document"),
    path("<str:identifier>/artifacts/new/", views.artifact_upload, name="artifact_upload"),
    path("<str:identifier>/indicators/new/", views.detection_indicator_add, name="detection_indicator_add"),
    path("<str:identifier>/artifacts/<int:artifact_id>/", views.artifact_download, name="artifact"),
    path("<str:identifier>/plan/", views.release_plan, name="plan"),
    path("<str:identifier>/plan/cancel/", views.release_plan_cancel, name="plan_cancel"),
    path("<str:identifier>/withdraw/", views.advisory_withdraw, name="withdraw"),
    path("<str:identifier>/managers/", views.manager_assign, name="assign_manager"),
    path("<str:identifier>/waves/<str:level>/", views.wave_status, name="wave"),
]
