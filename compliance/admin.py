from django.contrib import admin

from compliance import services
from compliance.models import (
    Agreement,
    AgreementReminder,
    Appeal,
    ComplianceReview,
    ContractVersion,
    EnforcementAction,
    JurisdictionPolicy,
    PolicyLevelChange,
    Violation,
)
from core.admin import ReadOnlyAdmin


class AppendOnlyAdmin(admin.ModelAdmin):
    """Records that are added through services and never edited afterwards."""

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        return [field.name for field in self.model._meta.fields]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ContractVersion)
class ContractVersionAdmin(AppendOnlyAdmin):
    list_display = ["title", "contract_key", "version", "required_from_level", "effective_at"]
    list_filter = ["contract_key"]
    readonly_fields = ["text_sha256"]

    def save_model(self, request, obj, form, change):
        if change:
            return
        form.instance = services.publish_contract_version(
            actor=request.user,
            **{name: form.cleaned_data[name] for name in (
                "contract_key", "title", "version", "text", "effective_at", "required_from_level", "validity_days",
                "previous_versions_valid_until",
            )},
        )  # fmt: skip
        obj.pk = form.instance.pk


@admin.register(Agreement)
class AgreementAdmin(AppendOnlyAdmin):
    list_display = ["partner", "contract_version", "signer_name", "signed_at", "valid_until"]
    list_filter = ["contract_version"]
    search_fields = ["partner__legal_name", "signer_name"]
    fields = ["partner", "contract_version", "signer_name", "signer_title", "signed_at"]

    def save_model(self, request, obj, form, change):
        if change:
            return
        agreement = services.record_agreement(actor=request.user, **form.cleaned_data)
        obj.pk = agreement.pk


@admin.register(JurisdictionPolicy)
class JurisdictionPolicyAdmin(AppendOnlyAdmin):
    list_display = ["country", "cap_level", "effective_at", "created_by"]
    list_filter = ["cap_level"]
    fields = ["country", "cap_level", "effective_at", "reason"]

    def save_model(self, request, obj, form, change):
        if change:
            return
        policy = services.set_jurisdiction_policy(actor=request.user, **form.cleaned_data)
        obj.pk = policy.pk


@admin.register(EnforcementAction)
class EnforcementActionAdmin(admin.ModelAdmin):
    list_display = ["partner", "kind", "cap_level", "starts_at", "ends_at"]
    list_filter = ["kind"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AgreementReminder)
class AgreementReminderAdmin(admin.ModelAdmin):
    list_display = ["sent_at", "agreement", "kind", "recipients"]
    list_filter = ["kind"]
    list_select_related = ["agreement__partner", "agreement__contract_version"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Violation)
class ViolationAdmin(ReadOnlyAdmin):
    list_display = ["pk", "partner", "kind", "severity", "status", "reported_at"]
    list_filter = ["status", "kind", "severity"]
    list_select_related = ["partner"]


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdmin):
    list_display = ["pk", "action", "status", "filed_at", "decided_at"]
    list_filter = ["status"]
    list_select_related = ["action__partner"]


@admin.register(ComplianceReview)
class ComplianceReviewAdmin(ReadOnlyAdmin):
    list_display = ["partner", "due_at", "status", "outcome", "completed_at"]
    list_filter = ["status", "outcome"]
    list_select_related = ["partner"]


@admin.register(PolicyLevelChange)
class PolicyLevelChangeAdmin(ReadOnlyAdmin):
    list_display = ["policy", "partner", "level_before", "level_after", "recorded_at", "notified_at"]
    list_select_related = ["policy", "partner"]
