from django.urls import path

from advisories import views

app_name = "advisories"

urlpatterns = [
    path("", views.advisory_list, name="list"),
    path("notices/", views.notice_inbox, name="notices"),
    path("notices/read/", views.notice_mark_read, name="notices_read"),
    path("notices/preferences/", views.notice_preferences, name="notice_preferences"),
    path("advisories/<str:identifier>/", views.advisory_detail, name="detail"),
    path("advisories/<str:identifier>/acknowledge/", views.advisory_acknowledge, name="acknowledge"),
    path("advisories/<str:identifier>/artifacts/<int:artifact_id>/", views.artifact_download, name="artifact"),
]
