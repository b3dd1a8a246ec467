from django.urls import path

from compliance import views

app_name = "compliance"

urlpatterns = [
    # Program staff
    path("program/contracts/", views.contract_list, name="contract_list"),
    path("program/contracts/publish/", views.contract_publish, name="contract_publish"),
    path("program/contracts/versions/<int:pk>/", views.contract_version, name="contract_version"),
    path("program/contracts/signatures/", views.signing_status, name="signing_status"),
    path("program/contracts/agreements/<int:pk>/", views.staff_agreement_record, name="staff_agreement"),
    # Partners
    path("portal/agreements/", views.partner_agreements, name="partner_agreements"),
    path("portal/agreements/sign/<int:version_id>/", views.partner_sign, name="partner_sign"),
    path("portal/agreements/<int:pk>/", views.partner_agreement_record, name="partner_agreement"),
]
