from django.urls import path

from compliance import enforcement_views as oversight
from compliance import views

app_name = "compliance"

urlpatterns = [
    # Program staff
    path("program/contracts/", views.contract_list, name="contract_list"),
    path("program/contracts/publish/", views.contract_publish, name="contract_publish"),
    path("program/contracts/versions/<int:pk>/", views.contract_version, name="contract_version"),
    path("program/contracts/signatures/", views.signing_status, name="signing_status"),
    path("program/contracts/agreements/<int:pk>/", views.staff_agreement_record, name="staff_agreement"),
    # Compliance officers (program managers may list and report violations)
    path("program/compliance/violations/", oversight.violation_list, name="violation_list"),
    path("program/compliance/violations/report/", oversight.violation_report, name="violation_report"),
    path("program/compliance/violations/<int:violation_id>/", oversight.violation_detail, name="violation_detail"),
    path(
        "program/compliance/violations/<int:violation_id>/transition/",
        oversight.violation_transition,
        name="violation_transition",
    ),
    path("program/compliance/violations/<int:violation_id>/notes/", oversight.violation_note, name="violation_note"),
    path(
        "program/compliance/violations/<int:violation_id>/evidence/",
        oversight.violation_evidence,
        name="violation_evidence",
    ),
    path(
        "program/compliance/violations/<int:violation_id>/evidence/<int:evidence_id>/",
        oversight.evidence_download,
        name="evidence_download",
    ),
    path(
        "program/compliance/violations/<int:violation_id>/enforce/",
        oversight.violation_enforce,
        name="violation_enforce",
    ),
    path("program/compliance/appeals/", oversight.appeal_queue, name="appeal_queue"),
    path("program/compliance/appeals/<int:appeal_id>/", oversight.appeal_detail, name="appeal_detail"),
    path("program/compliance/jurisdictions/", oversight.policy_list, name="policy_list"),
    path("program/compliance/reviews/", oversight.review_list, name="review_list"),
    path("program/compliance/reviews/<int:review_id>/", oversight.review_detail, name="review_detail"),
    # Partners
    path("portal/appeals/", oversight.partner_appeals, name="partner_appeals"),
    path("portal/appeals/<int:action_id>/", oversight.partner_appeal_file, name="partner_appeal_file"),
    path("portal/agreements/", views.partner_agreements, name="partner_agreements"),
    path("portal/agreements/sign/<int:version_id>/", views.partner_sign, name="partner_sign"),
    path("portal/agreements/<int:pk>/", views.partner_agreement_record, name="partner_agreement"),
]
