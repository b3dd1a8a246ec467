from django.urls import path

from advisories import views
from advisories.protection import views as protection_views
from advisories.webhooks import views as webhook_views
from partners import token_views as partner_views

app_name = "advisories"

urlpatterns = [
    path("", views.advisory_list, name="list"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("notices/", views.notice_inbox, name="notices"),
    path("notices/read/", views.notice_mark_read, name="notices_read"),
    path("notices/preferences/", views.notice_preferences, name="notice_preferences"),
    path("advisories/<str:identifier>/", views.advisory_detail, name="detail"),
    path("advisories/<str:identifier>/acknowledge/", views.advisory_acknowledge, name="acknowledge"),
    path("advisories/<str:identifier>/protection/", protection_views.protection_status, name="protection"),
    path("advisories/<str:identifier>/indicators/", protection_views.partner_indicators, name="indicators"),
    path("api-tokens/", partner_views.api_tokens, name="api_tokens"),
    path("api-tokens/<int:token_id>/revoke/", partner_views.revoke_api_token, name="revoke_api_token"),
    path("webhooks/", webhook_views.webhook_endpoints, name="webhooks"),
    path("webhooks/<int:endpoint_id>/", webhook_views.webhook_endpoint, name="webhook"),
    path("webhooks/<int:endpoint_id>/rotate/", webhook_views.rotate_webhook_secret, name="webhook_rotate"),
    path("webhooks/<int:endpoint_id>/test/", webhook_views.send_test_webhook, name="webhook_test"),
    path("webhooks/<int:endpoint_id>/disable/", webhook_views.disable_webhook_endpoint, name="webhook_disable"),
    path("webhooks/<int:endpoint_id>/enable/", webhook_views.enable_webhook_endpoint, name="webhook_enable"),
    path("webhooks/<int:endpoint_id>/delete/", webhook_views.delete_webhook_endpoint, name="webhook_delete"),
    path("advisories/<str:identifier>/csaf/", views.csaf_download, name="csaf"),
    path("advisories/<str:identifier>/stix/", views.stix_download, name="stix"),
    path("advisories/<str:identifier>/artifacts/<int:artifact_id>/", views.artifact_download, name="artifact"),
]
