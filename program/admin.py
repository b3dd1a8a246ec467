"""The audit log in the Django admin (/manage/core/auditevent/), read-only. It lives in the program app, above every
layer, because showing an event applies the advisories layer's need-to-know rule: an event about an advisory the
viewer may not see (scheduled, not assigned to them) shows the advisory's identifier, not the event's label or
details, which may name its title; and searching labels does not reach those events."""

import json

from django.contrib import admin
from django.db.models import Q

from advisories.need_to_know import audit_events_with_visibility, audit_target_label
from core.models import AuditChainLink, AuditEvent

WITHHELD = "(withheld: need-to-know)"


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor_label", "action", "target", "ip_address"]
    list_filter = ["action"]
    search_fields = ["actor_label", "action", "target_id"]
    date_hierarchy = "created_at"
    fields = [
        "created_at",
        "actor",
        "actor_label",
        "action",
        "target_type",
        "target_id",
        "target",
        "shown_details",
        "ip_address",
        "chain",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return audit_events_with_visibility(super().get_queryset(request), request.user)

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            # Labels are searched only where they may be shown; an advisory's events by its exact identifier.
            results |= queryset.filter(
                Q(content_visible=True, target_label__icontains=term) | Q(concerned_advisory_identifier__iexact=term)
            )
        return results, may_have_duplicates

    @admin.display(description="target")
    def target(self, event):
        return audit_target_label(event)

    @admin.display(description="details")
    def shown_details(self, event):
        if not event.content_visible:
            return WITHHELD
        return json.dumps(event.details, indent=2, sort_keys=True, ensure_ascii=False)

    @admin.display(description="chain")
    def chain(self, event):
        link = AuditChainLink.objects.filter(event_id=event.pk).first()
        return f"link {link.position}, hash {link.hash}" if link else "not chained yet"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
