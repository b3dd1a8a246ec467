from django import forms
from django.contrib import admin

from partners import services
from partners.models import ApiToken, MemberRole, Partner, PartnerMembership


class ApiTokenInline(admin.TabularInline):
    """The organisation's API tokens, for the program's information; partner admins manage them in the portal."""

    model = ApiToken
    extra = 0
    fields = ["name", "prefix", "created_by", "created_at", "expires_at", "revoked_at", "last_used_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class PartnerMembershipInline(admin.TabularInline):
    model = PartnerMembership
    extra = 0
    fields = ["user", "role", "is_active", "created_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["legal_name", "trading_name", "country", "status", "assigned_level", "created_at"]
    list_filter = ["status", "assigned_level", "country"]
    search_fields = ["legal_name", "trading_name"]
    inlines = [PartnerMembershipInline, ApiTokenInline]

    def get_fields(self, request, obj=None):
        fields = ["legal_name", "trading_name", "country", "assigned_level"]
        return fields if obj is None else [*fields, "status", "status_changed_at", "group", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        # Status changes only through the lifecycle services (reason, audit, notice); the rest is set at creation.
        return (
            []
            if obj is None
            else ["legal_name", "country", "assigned_level", "status", "status_changed_at", "group", "created_at"]
        )

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["trading_name"])
            return
        partner = services.create_partner(actor=request.user, **form.cleaned_data)
        obj.pk, obj.group_id = partner.pk, partner.group_id


class MembershipCreationForm(forms.ModelForm):
    email = forms.EmailField()
    password = forms.CharField(widget=forms.PasswordInput, required=False, help_text="Leave empty to set it later.")

    class Meta:
        model = PartnerMembership
        fields = ["partner", "role"]


@admin.register(PartnerMembership)
class PartnerMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "partner", "role", "is_active", "created_at"]
    list_filter = ["role", "is_active"]
    search_fields = ["user__email", "partner__legal_name"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = MembershipCreationForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ["email", "password", "partner", "role"] if obj is None else ["user", "partner", "role", "is_active"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["user", "partner", "role", "is_active"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        membership = services.add_member(
            actor=request.user,
            partner=form.cleaned_data["partner"],
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"] or MemberRole.ANALYST,
            password=form.cleaned_data["password"] or None,
        )
        obj.pk, obj.user_id = membership.pk, membership.user_id
