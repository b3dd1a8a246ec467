from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models

from advisories import services
from advisories.models import Advisory, AdvisoryDocument, Artifact, Delivery, DownloadEvent, ReleaseCohort, ReleaseWave


class AdvisoryDocumentInline(admin.StackedInline):
    model = AdvisoryDocument
    extra = 0


class ArtifactInline(admin.TabularInline):
    model = Artifact
    extra = 0
    can_delete = False  # a stored file and its sha256 are evidence of what partners received
    # A plain file input: the default one links to the file's URL, and private files have none.
    formfield_overrides = {models.FileField: {"widget": forms.FileInput}}
    fields = ["level", "name", "description", "file", "size", "sha256"]
    readonly_fields = ["size", "sha256"]


class ReleaseWaveInline(admin.TabularInline):
    model = ReleaseWave
    extra = 0
    fields = ["level", "scheduled_at", "status", "released_at"]
    readonly_fields = ["status", "released_at"]


@admin.register(Advisory)
class AdvisoryAdmin(admin.ModelAdmin):
    list_display = ["identifier", "title", "tlp", "status", "public_release_at"]
    list_filter = ["status", "tlp"]
    search_fields = ["identifier", "title"]
    readonly_fields = ["identifier", "status", "created_at", "updated_at"]
    inlines = [AdvisoryDocumentInline, ArtifactInline, ReleaseWaveInline]
    actions = ["schedule_release"]

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            return
        advisory = services.create_advisory(actor=request.user, **form.cleaned_data)
        obj.pk, obj.identifier = advisory.pk, advisory.identifier

    def save_formset(self, request, form, formset, change):
        if formset.model is not Artifact:
            formset.save()
            return
        # Every new or replaced file goes through the service, which records its size and sha256.
        changed_files = {id(f.instance): f.cleaned_data["file"] for f in formset.forms if "file" in f.changed_data}
        for artifact in formset.save(commit=False):
            if id(artifact) in changed_files:
                services.store_artifact(
                    actor=request.user, artifact=artifact, uploaded_file=changed_files[id(artifact)]
                )
            else:
                artifact.save()

    @admin.action(description="Schedule the release plan of the selected drafts")
    def schedule_release(self, request, queryset):
        for advisory in queryset:
            try:
                services.schedule_advisory(actor=request.user, advisory=advisory)
            except ValidationError as error:
                self.message_user(request, f"{advisory.identifier}: {' '.join(error.messages)}", messages.ERROR)
            else:
                self.message_user(request, f"{advisory.identifier} is scheduled.", messages.SUCCESS)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReleaseWave)
class ReleaseWaveAdmin(ReadOnlyAdmin):
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
    """Program managers split a scheduled wave into cohorts here; creation goes through the service."""

    form = ReleaseCohortForm
    list_display = ["wave", "name", "scheduled_at", "released_at"]
    list_filter = ["wave__level"]
    search_fields = ["wave__advisory__identifier", "name"]
    autocomplete_fields = ["partners"]
    readonly_fields = ["released_at"]

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or obj.released_at is None)

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
