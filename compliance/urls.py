"""The partners' compliance pages, under /portal/. They share the "compliance" namespace with the staff pages of
program/urls.py (config/urls.py joins the two), so every `compliance:` URL name stays one namespace."""

from django.urls import path

from compliance import views

urlpatterns = [
    path("appeals/", views.partner_appeals, name="partner_appeals"),
    path("appeals/<int:action_id>/", views.partner_appeal_file, name="partner_appeal_file"),
    path("agreements/", views.partner_agreements, name="partner_agreements"),
    path("agreements/sign/<int:version_id>/", views.partner_sign, name="partner_sign"),
    path("agreements/<int:pk>/", views.partner_agreement_record, name="partner_agreement"),
]
