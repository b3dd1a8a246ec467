from django import forms
from django.contrib import admin

from advisories import need_to_know, services
from advisories.models import (
    Advisory,
    AdvisoryDocument,
    Artifact,
    Delivery,
    DownloadEvent,
    HandlingAcknowledgement,
    ReleaseCohort,
    ReleaseWave,
    WaveStatus,
)
from core.admin import ReadOnlyAdmin


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AdvisoryDocumentInline(ReadOnlyInline):
    model = AdvisoryDocument
    fields = ["level", "title", "body_markdown"]


class ArtifactInline(ReadOnlyInline):
    model = Artifact
    # No file link: private files have no URL.
    fields = ["level", "name", "description", "content_type", "size", "sha256"]


class ReleaseWaveInline(ReadOnlyInline):
    model = ReleaseWave
    fields = ["level", "scheduled_at", "status", "released_at"]


@admin.register(Advisory)
class AdvisoryAdmin(admin.ModelAdmin):
    """Read-only: advisories are written in the program pages (/program/advisories/), through the services. Need-to-
    know holds here too: an unassigned manager sees that a draft exists, not its title or content."""

    list_display = ["identifier", "visible_title", "tlp", "status", "public_release_at"]
    list_filter = ["status", "tlp"]
    search_fields = ["identifier"]
    inlines = [AdvisoryDocumentInline, ArtifactInline, ReleaseWaveInline]

    def get_queryset(self, request):
        return need_to_know.with_content_visible(super().get_queryset(request), request.user)

    @admin.display(description="title")
    def visible_title(self, advisory):
        return advisory.title if advisory.content_visible else "(restricted: not assigned to you)"

    def has_view_permission(self, request, obj=None):
        if obj is not None and not need_to_know.can_view_content(request.user, obj):
            return False
        return super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReleaseWave)
class ReleaseWaveAdmin(ReadOnlyAdmin):
    """Waves by advisory identifier (an advisory's `str` is its identifier: its title is need-to-know)."""

    list_display = ["advisory", "level", "scheduled_at", "status", "released_at"]
    list_filter = ["status", "level"]
    list_select_related = ["advisory"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["advisory", "partner", "level", "delivered_at", "notified_at"]
    list_filter = ["level"]
    search_fields = ["advisory__identifier", "partner__legal_name"]
    list_select_related = ["advisory", "partner"]
    exclude = ["fingerprint_token"]


@admin.register(DownloadEvent)
class DownloadEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "partner", "advisory", "kind", "artifact", "ip_address"]
    list_filter = ["kind"]
    search_fields = ["advisory__identifier", "partner__legal_name", "user__email"]
    list_select_related = ["user", "partner", "advisory", "artifact"]
    date_hierarchy = "created_at"


@admin.register(HandlingAcknowledgement)
class HandlingAcknowledgementAdmin(ReadOnlyAdmin):
    list_display = ["acknowledged_at", "user", "partner", "advisory", "tlp", "ip_address"]
    list_filter = ["tlp"]
    search_fields = ["advisory__identifier", "partner__legal_name", "user__email"]
    list_select_related = ["user", "partner", "advisory"]


class ReleaseCohortForm(forms.ModelForm):
    class Meta:
        model = ReleaseCohort
        fields = ["wave", "name", "scheduled_at", "partners"]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None and not self.errors:
            services.validate_release_cohort(
                wave=cleaned["wave"], scheduled_at=cleaned["scheduled_at"], partners=cleaned["partners"]
            )
        return cleaned


@admin.register(ReleaseCohort)
class ReleaseCohortAdmin(admin.ModelAdmin):
    """Program managers split a scheduled wave into cohorts here; creation goes through the service. Only the
    advisory's assigned managers may split its waves or change and delete its cohorts (need-to-know): the wave
    list offers only the scheduled waves of their advisories."""

    form = ReleaseCohortForm
    list_display = ["wave", "name", "scheduled_at", "released_at"]
    list_filter = ["wave__level"]
    search_fields = ["wave__advisory__identifier", "name"]
    autocomplete_fields = ["partners"]
    readonly_fields = ["released_at"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "wave":
            kwargs["queryset"] = ReleaseWave.objects.filter(
                status=WaveStatus.SCHEDULED, advisory__in=need_to_know.assigned_advisories(request.user)
            ).select_related("advisory")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _may_change(self, request, obj) -> bool:
        return obj is None or (
            obj.released_at is None and need_to_know.is_assigned_manager(request.user, obj.wave.advisory)
        )

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_change(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_change(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            return
        cohort = services.plan_release_cohort(
            actor=request.user,
            wave=form.cleaned_data["wave"],
            name=form.cleaned_data["name"],
            scheduled_at=form.cleaned_data["scheduled_at"],
            partners=form.cleaned_data["partners"],
        )
        obj.pk = cohort.pk
