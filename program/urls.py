from django.urls import path

from program import views

app_name = "program"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("reports/", views.reports, name="reports"),
    path("reports/partners.csv", views.partners_csv, name="partners_csv"),
    path("reports/deliveries.csv", views.deliveries_csv, name="deliveries_csv"),
    path("reports/downloads.csv", views.downloads_csv, name="downloads_csv"),
    path(
        "reports/advisories/<str:identifier>/distribution/",
        views.distribution_report,
        name="distribution_report",
    ),
    path("applications/", views.application_list, name="application_list"),
    path("applications/<int:application_id>/", views.application_detail, name="application_detail"),
    path("applications/<int:application_id>/review/", views.application_start_review, name="application_start_review"),
    path("applications/<int:application_id>/checklist/", views.application_checklist, name="application_checklist"),
    path("applications/<int:application_id>/notes/", views.application_note, name="application_note"),
    path("applications/<int:application_id>/approve/", views.application_approve, name="application_approve"),
    path("applications/<int:application_id>/reject/", views.application_reject, name="application_reject"),
    path("partners/", views.partner_list, name="partner_list"),
    path("partners/<int:partner_id>/", views.partner_detail, name="partner_detail"),
    path("partners/<int:partner_id>/suspend/", views.partner_suspend, name="partner_suspend"),
    path("partners/<int:partner_id>/reinstate/", views.partner_reinstate, name="partner_reinstate"),
    path("partners/<int:partner_id>/remove/", views.partner_remove, name="partner_remove"),
    path("partners/<int:partner_id>/invite/", views.partner_invite, name="partner_invite"),
    path("partners/<int:partner_id>/level/", views.partner_change_level, name="partner_change_level"),
    path("partners/<int:partner_id>/team/", views.partner_team_settings, name="partner_team_settings"),
    path(
        "partners/<int:partner_id>/members/<int:membership_id>/reset-second-factor/",
        views.partner_member_reset_second_factor,
        name="partner_member_reset_second_factor",
    ),
]
