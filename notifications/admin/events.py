"""Admin for events: a read-only record of every accepted trigger and what it led to.

Nothing about an event can be added or edited here (the API and test events
create them); superusers may delete. Each event shows its deliveries inline, and
"Dispatch again" runs selected events through the rules once more with
``event_dispatch_again``: deliveries are unique per recipient and channel, so
only what is new (a recipient added to a group, a rule enabled since) is sent.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from notifications.admin.common import ReadOnlyInline, UUIDSearchMixin, admin_link, pretty_json
from notifications.models import Delivery, Event
from notifications.services.dispatch import event_dispatch_again

# An event to a large group has thousands of deliveries; the inline shows the
# newest ones and links to the filtered delivery list for the rest.
INLINE_DELIVERY_LIMIT = 100


class LimitedDeliveryFormSet(BaseInlineFormSet):
    def get_queryset(self) -> QuerySet[Delivery]:
        if not hasattr(self, "_limited_queryset"):
            self._limited_queryset = super().get_queryset()[:INLINE_DELIVERY_LIMIT]
        return self._limited_queryset


class DeliveryInline(ReadOnlyInline):
    model = Delivery
    formset = LimitedDeliveryFormSet
    fields = ("channel", "address", "status", "skip_reason", "escalation_of", "attempts",
              "last_error",
              "updated_at")
    readonly_fields = fields
    ordering = ("-created_at",)
    verbose_name_plural = f"deliveries (newest {INLINE_DELIVERY_LIMIT})"

    @admin.display(description="escalation of")
    def escalation_of(self, obj: Delivery) -> SafeString | str:
        # The in-app delivery an escalated e-mail/SMS follows (parent_id only: no extra query).
        if obj.parent_id is None:
            return "-"
        return format_html('<a href="{}">{} {}</a>', reverse(
            "admin:notifications_delivery_change", args=[obj.parent_id]), "in-app",
            str(obj.parent_id)[:8])


@admin.register(Event)
class EventAdmin(UUIDSearchMixin, admin.ModelAdmin):
    list_display = ("event_type", "status", "application", "created_at", "send_at",
                    "delivery_count")
    list_filter = ("status", "application", "created_at")
    list_select_related = ("application",)
    search_fields = ("event_type",)
    uuid_search_fields = ("id",)
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("id", "event_type", "status", "error", "all_deliveries")}),
        ("Source", {"fields": ("application", "api_key_link", "idempotency_key")}),
        ("Payload", {"fields": ("data_json", "recipients_json")}),
        ("Timing", {"fields": ("created_at", "send_at", "processing_started_at",
                               "processed_at")}),
    )
    readonly_fields = ("id", "event_type", "status", "error", "all_deliveries", "application",
                       "api_key_link", "idempotency_key", "data_json", "recipients_json",
                       "created_at", "send_at", "processing_started_at", "processed_at")
    inlines = [DeliveryInline]
    actions = ["dispatch_again"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Event]:
        return super().get_queryset(request).annotate(delivery_total=Count("deliveries"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        return request.user.is_superuser

    def has_dispatch_permission(self, request: HttpRequest) -> bool:
        # The event itself is never edited, so re-dispatching is its own permission,
        # granted to whoever may change events.
        return request.user.has_perm("notifications.change_event")

    @admin.display(description="deliveries", ordering="delivery_total")
    def delivery_count(self, obj: Event) -> int:
        return obj.delivery_total

    @admin.display(description="deliveries")
    def all_deliveries(self, obj: Event) -> SafeString:
        url = reverse("admin:notifications_delivery_changelist")
        return format_html('<a href="{}?event={}">All {} deliveries of this event</a>',
                           url, obj.pk, obj.delivery_total)

    @admin.display(description="API key")
    def api_key_link(self, obj: Event) -> SafeString | str:
        return admin_link(obj.api_key)

    @admin.display(description="data")
    def data_json(self, obj: Event) -> SafeString:
        return pretty_json(obj.data)

    @admin.display(description="recipients")
    def recipients_json(self, obj: Event) -> SafeString:
        return pretty_json(obj.recipients)

    @admin.action(description="Dispatch again (sends only what is new)",
                  permissions=["dispatch"])
    def dispatch_again(self, request: HttpRequest, queryset: QuerySet[Event]) -> None:
        count = 0
        for event in queryset:
            event_dispatch_again(event=event)
            count += 1
        self.message_user(request, f"Dispatched {count} event(s) again. Existing deliveries are "
                                   "kept and not sent twice.", messages.SUCCESS)
