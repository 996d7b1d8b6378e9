"""Admin for deliveries: what was sent to whom, over which channel, and every attempt.

Deliveries are written only by the pipeline, so the pages are read-only; the
attempt log (one row per provider call, written before the call and completed
after) is shown inline, and so is what the ESP reported afterwards (delivered,
bounced, opened, …). An escalation shows its chain: the in-app delivery it
follows and the deliveries that follow this one. "Retry" re-queues failed deliveries (and those skipped
because their channel was not configured) with ``delivery_retry``.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from notifications.admin.common import ReadOnlyInline, UUIDSearchMixin, admin_link, pretty_json
from notifications.models import Delivery, DeliveryAttempt, DeliveryStatus, TrackingEvent
from notifications.services.deliveries import delivery_retry


class DeliveryAttemptInline(ReadOnlyInline):
    model = DeliveryAttempt
    fields = ("number", "started_at", "finished_at", "duration_ms", "outcome", "error",
              "provider_message_id")
    readonly_fields = fields
    show_change_link = False
    verbose_name_plural = "attempt log"


class TrackingEventInline(ReadOnlyInline):
    model = TrackingEvent
    fields = ("kind", "occurred_at", "detail_json", "provider_event_id", "received_at")
    readonly_fields = fields
    show_change_link = False
    verbose_name_plural = "tracking (reported by the provider)"

    @admin.display(description="detail")
    def detail_json(self, obj: TrackingEvent) -> SafeString:
        return pretty_json(obj.detail)


@admin.register(Delivery)
class DeliveryAdmin(UUIDSearchMixin, admin.ModelAdmin):
    list_display = ("short_id", "event_link", "channel", "address", "status", "reason",
                    "attempts", "updated_at")
    list_filter = ("status", "channel", "skip_reason", "created_at")
    list_select_related = ("event",)
    search_fields = ("address", "provider_message_id")
    uuid_search_fields = ("id", "event__id")
    fieldsets = (
        (None, {"fields": ("id", "event_link", "rule_link", "subscriber_link", "channel",
                           "address", "recipient_key", "parent_link", "children_links")}),
        ("Status", {"fields": ("status", "skip_reason", "attempts", "last_error", "error_code",
                               "next_attempt_at", "lease_expires_at", "enqueued_at",
                               "provider_message_id", "opened_at", "clicked_at")}),
        ("Content", {"fields": ("rendered_json",)}),
        ("Timing", {"fields": ("created_at", "updated_at", "sent_at")}),
    )
    readonly_fields = ("id", "event_link", "rule_link", "subscriber_link", "channel", "address",
                       "recipient_key", "status", "skip_reason", "attempts", "last_error",
                       "error_code", "next_attempt_at", "lease_expires_at", "enqueued_at",
                       "provider_message_id", "rendered_json", "created_at", "updated_at",
                       "sent_at", "parent_link", "children_links", "opened_at", "clicked_at")
    inlines = [DeliveryAttemptInline, TrackingEventInline]
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Delivery | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Delivery | None = None) -> bool:
        # Same rule as events: deleting an event (superusers only) deletes its
        # deliveries, and the admin checks this permission for each of them.
        return request.user.is_superuser

    def has_retry_permission(self, request: HttpRequest) -> bool:
        # Fields are never edited by hand; retrying is what "change" means here.
        return request.user.has_perm("notifications.change_delivery")

    @admin.display(description="reason")
    def reason(self, obj: Delivery) -> str:
        """Why it was skipped, or the last error, shortened; '-' when there is none."""
        if obj.skip_reason:
            return obj.get_skip_reason_display()
        error = obj.last_error or ""
        return error if len(error) <= 80 else f"{error[:79]}…"

    @admin.display(description="id")
    def short_id(self, obj: Delivery) -> str:
        return str(obj.pk)[:8]

    @admin.display(description="event", ordering="event__created_at")
    def event_link(self, obj: Delivery) -> SafeString | str:
        return admin_link(obj.event, obj.event.event_type)

    @admin.display(description="rule")
    def rule_link(self, obj: Delivery) -> SafeString | str:
        return admin_link(obj.rule)

    @admin.display(description="subscriber")
    def subscriber_link(self, obj: Delivery) -> SafeString | str:
        return admin_link(obj.subscriber)

    @admin.display(description="escalation of")
    def parent_link(self, obj: Delivery) -> SafeString | str:
        return admin_link(obj.parent, f"{obj.parent.channel} {str(obj.parent.pk)[:8]}"
                          if obj.parent_id else None)

    @admin.display(description="escalated to")
    def children_links(self, obj: Delivery) -> SafeString | str:
        children = list(obj.children.order_by("created_at"))
        if not children:
            return "-"
        return format_html_join(", ", "{} ({})", (
            (admin_link(child, f"{child.channel} {str(child.pk)[:8]}"), child.get_status_display())
            for child in children))

    @admin.display(description="rendered content")
    def rendered_json(self, obj: Delivery) -> SafeString:
        return pretty_json(obj.rendered)

    @admin.action(description="Retry selected deliveries", permissions=["retry"])
    def retry(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        retried, not_retryable = [], 0
        for delivery in queryset:
            if delivery_retry(delivery=delivery):
                retried.append(delivery.pk)
            else:
                not_retryable += 1
        queued = len(retried)
        text = f"Retried {queued} deliveries: {self._outcomes(retried)}."
        if not_retryable:
            text += (f" {not_retryable} could not be retried: only failed deliveries and those "
                     "skipped because their channel was not configured can be.")
        self.message_user(request, text, messages.SUCCESS if queued else messages.WARNING)

    @staticmethod
    def _outcomes(ids: list) -> str:
        """What became of retried deliveries by now: sent at once where tasks run in this
        process, or still waiting for a worker."""
        counts = dict(Delivery.objects.filter(pk__in=ids).values_list("status")
                      .annotate(n=models.Count("pk")).values_list("status", "n"))
        done = {DeliveryStatus.SENT: "sent", DeliveryStatus.DELIVERED: "delivered",
                DeliveryStatus.FAILED: "failed again (see each one's error)",
                DeliveryStatus.SKIPPED: "skipped"}
        parts = [f"{counts.pop(status)} {words}" for status, words in done.items()
                 if status in counts]
        waiting = sum(counts.values())
        if waiting:
            parts.append(f"{waiting} queued for a worker")
        return ", ".join(parts) or "none"
