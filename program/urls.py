"""Every staff page: config/urls.py mounts this module at /program/. Each block routes one module of program/views/
(docs/architecture.md, "Where the code for a URL lives"); the namespaces are the URL names' prefixes."""

from django.urls import include, path

from program.views import (
    advisories,
    appeals,
    applications,
    contracts,
    coverage,
    dashboard,
    jurisdictions,
    leaks,
    partners,
    releases,
    reports,
    reviews,
    violations,
)

program_patterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("reports/", reports.reports, name="reports"),
    path("reports/partners.csv", reports.partners_csv, name="partners_csv"),
    path("reports/deliveries.csv", reports.deliveries_csv, name="deliveries_csv"),
    path("reports/downloads.csv", reports.downloads_csv, name="downloads_csv"),
    path(
        "reports/advisories/<str:identifier>/distribution/",
        reports.distribution_report,
        name="distribution_report",
    ),
    path("applications/", applications.application_list, name="application_list"),
    path("applications/<int:application_id>/", applications.application_detail, name="application_detail"),
    path(
        "applications/<int:application_id>/review/",
        applications.application_start_review,
        name="application_start_review",
    ),
    path(
        "applications/<int:application_id>/checklist/",
        applications.application_checklist,
        name="application_checklist",
    ),
    path("applications/<int:application_id>/notes/", applications.application_note, name="application_note"),
    path("applications/<int:application_id>/approve/", applications.application_approve, name="application_approve"),
    path("applications/<int:application_id>/reject/", applications.application_reject, name="application_reject"),
    path("partners/", partners.partner_list, name="partner_list"),
    path("partners/<int:partner_id>/", partners.partner_detail, name="partner_detail"),
    path("partners/<int:partner_id>/suspend/", partners.partner_suspend, name="partner_suspend"),
    path("partners/<int:partner_id>/reinstate/", partners.partner_reinstate, name="partner_reinstate"),
    path("partners/<int:partner_id>/remove/", partners.partner_remove, name="partner_remove"),
    path("partners/<int:partner_id>/invite/", partners.partner_invite, name="partner_invite"),
    path("partners/<int:partner_id>/level/", partners.partner_change_level, name="partner_change_level"),
    path("partners/<int:partner_id>/team/", partners.partner_team_settings, name="partner_team_settings"),
    path(
        "partners/<int:partner_id>/members/<int:membership_id>/reset-second-factor/",
        partners.partner_member_reset_second_factor,
        name="partner_member_reset_second_factor",
    ),
]

# /program/advisories/: the editor (advisories.py) and the release pages (releases.py).
advisory_patterns = [
    path("", advisories.advisory_list, name="list"),
    path("new/", advisories.advisory_create, name="create"),
    path("preview/", advisories.markdown_preview, name="preview"),
    path("variant-proposals/", advisories.variant_proposals, name="variant_proposals"),
    path("calendar/", releases.release_calendar, name="calendar"),
    path("calendar/upcoming/", releases.release_calendar_list, name="calendar_list"),
    path("<str:identifier>/", advisories.advisory_detail, name="detail"),
    path("<str:identifier>/edit/", advisories.advisory_edit, name="edit"),
    path("<str:identifier>/documents/<str:level>/", advisories.document_edit, name="document"),
    path("<str:identifier>/artifacts/new/", advisories.artifact_upload, name="artifact_upload"),
    path("<str:identifier>/indicators/new/", advisories.detection_indicator_add, name="detection_indicator_add"),
    path("<str:identifier>/artifacts/<int:artifact_id>/", advisories.artifact_download, name="artifact"),
    path("<str:identifier>/plan/", releases.release_plan, name="plan"),
    path("<str:identifier>/plan/cancel/", releases.release_plan_cancel, name="plan_cancel"),
    path("<str:identifier>/withdraw/", releases.advisory_withdraw, name="withdraw"),
    path("<str:identifier>/managers/", advisories.manager_assign, name="assign_manager"),
    path("<str:identifier>/waves/<str:level>/", releases.wave_status, name="wave"),
]

protection_patterns = [
    path("advisories/<str:identifier>/coverage/", coverage.advisory_coverage, name="coverage"),
    path("partners/<int:partner_id>/protection/", coverage.partner_protection, name="partner_record"),
]

leak_patterns = [
    path("", leaks.leak_incident_list, name="list"),
    path("<int:incident_id>/", leaks.leak_incident_detail, name="detail"),
    path("<int:incident_id>/samples/", leaks.leak_sample_add, name="add_sample"),
    path("<int:incident_id>/violations/", leaks.leak_violation_open, name="open_violation"),
]

# The staff half of the "compliance" namespace; its partner half is compliance/urls.py (/portal/), joined to this in
# config/urls.py so that one namespace keeps naming both.
compliance_patterns = [
    path("contracts/", contracts.contract_list, name="contract_list"),
    path("contracts/publish/", contracts.contract_publish, name="contract_publish"),
    path("contracts/versions/<int:pk>/", contracts.contract_version, name="contract_version"),
    path("contracts/signatures/", contracts.signing_status, name="signing_status"),
    path("contracts/agreements/<int:pk>/", contracts.staff_agreement_record, name="staff_agreement"),
    # Compliance officers (program managers may list and report violations)
    path("compliance/violations/", violations.violation_list, name="violation_list"),
    path("compliance/violations/report/", violations.violation_report, name="violation_report"),
    path("compliance/violations/<int:violation_id>/", violations.violation_detail, name="violation_detail"),
    path(
        "compliance/violations/<int:violation_id>/transition/",
        violations.violation_transition,
        name="violation_transition",
    ),
    path("compliance/violations/<int:violation_id>/notes/", violations.violation_note, name="violation_note"),
    path(
        "compliance/violations/<int:violation_id>/evidence/",
        violations.violation_evidence,
        name="violation_evidence",
    ),
    path(
        "compliance/violations/<int:violation_id>/evidence/<int:evidence_id>/",
        violations.evidence_download,
        name="evidence_download",
    ),
    path(
        "compliance/violations/<int:violation_id>/enforce/",
        violations.violation_enforce,
        name="violation_enforce",
    ),
    path("compliance/appeals/", appeals.appeal_queue, name="appeal_queue"),
    path("compliance/appeals/<int:appeal_id>/", appeals.appeal_detail, name="appeal_detail"),
    path("compliance/jurisdictions/", jurisdictions.policy_list, name="policy_list"),
    path("compliance/reviews/", reviews.review_list, name="review_list"),
    path("compliance/reviews/<int:review_id>/", reviews.review_detail, name="review_detail"),
]

urlpatterns = [
    path("advisories/", include((advisory_patterns, "program_advisories"))),
    path("", include((protection_patterns, "protection"))),
    path("leaks/", include((leak_patterns, "leaks"))),
    path("", include((program_patterns, "program"))),
]
