from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from advisories.api import protection, views

app_name = "api"

IDENTIFIER = r"(?P<identifier>FWN-[0-9]{4}-[0-9]{4,})"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html"), name="redoc"),
    path("advisories/", views.AdvisoryListView.as_view(), name="advisories"),
    re_path(rf"^advisories/{IDENTIFIER}/$", views.AdvisoryDetailView.as_view(), name="advisory"),
    re_path(rf"^advisories/{IDENTIFIER}/csaf/$", views.CsafView.as_view(), name="csaf"),
    re_path(rf"^advisories/{IDENTIFIER}/stix/$", views.StixView.as_view(), name="stix"),
    re_path(
        rf"^advisories/{IDENTIFIER}/artifacts/(?P<artifact_id>[0-9]{{1,18}})/$",
        views.ArtifactDownloadView.as_view(),
        name="artifact",
    ),
    re_path(rf"^advisories/{IDENTIFIER}/protection/$", protection.ProtectionStatusView.as_view(), name="protection"),
    re_path(rf"^advisories/{IDENTIFIER}/indicators/$", protection.IndicatorListView.as_view(), name="indicators"),
    re_path(r"^", views.ApiNotFoundView.as_view()),  # anything else, newlines included
]
