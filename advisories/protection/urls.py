"""Staff pages of protection coverage, under /program/."""

from django.urls import path

from advisories.protection import program_views as views

app_name = "protection"

urlpatterns = [
    path("advisories/<str:identifier>/coverage/", views.advisory_coverage, name="coverage"),
    path("partners/<int:partner_id>/protection/", views.partner_protection, name="partner_record"),
]
