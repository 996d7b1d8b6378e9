"""Admin for webhook messages (with "resend") and the read-only log of every attempt.

Both are written only by the sending services, so nothing here can be added or
edited; "Resend" sends selected messages again now, with their original
``webhook-id`` and body, outside the automatic retry schedule.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString

from notifications.admin.common import ReadOnlyInline, admin_link, pretty_json
from webhooks.models import WebhookAttempt, WebhookMessage
from webhooks.services.messages import message_data, message_resend


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser


class MessageAttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fk_name = "message"
    fields = ("started_at", "trigger", "outcome", "status_code", "error_class", "error",
              "latency_ms", "next_attempt_at")
    readonly_fields = fields
    ordering = ("-started_at", "-id")
    show_change_link = True


@admin.register(WebhookMessage)
class WebhookMessageAdmin(ReadOnlyAdmin):
    list_display = ("webhook_id", "endpoint", "event_type", "trigger", "status", "attempt_count",
                    "next_attempt_at", "created_at")
    list_filter = ("status", "trigger", "created_at")
    list_select_related = ("endpoint",)
    search_fields = ("webhook_id", "event_type")
    readonly_fields = ("webhook_id", "endpoint_link", "event_link", "event_type", "trigger",
                       "status", "attempt_count", "last_attempt_at", "next_attempt_at",
                       "succeeded_at", "last_error", "payload_json", "created_at")
    fields = readonly_fields
    inlines = [MessageAttemptInline]
    actions = ["resend"]

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("webhooks.change_endpoint")

    @admin.display(description="endpoint")
    def endpoint_link(self, obj: WebhookMessage) -> SafeString | str:
        return admin_link(obj.endpoint)

    @admin.display(description="event")
    def event_link(self, obj: WebhookMessage) -> SafeString | str:
        return admin_link(obj.event, obj.event_type) if obj.event_id else "-"

    @admin.display(description="payload (as sent)")
    def payload_json(self, obj: WebhookMessage) -> SafeString:
        return pretty_json(message_data(obj))

    @admin.action(description="Resend selected messages now", permissions=["resend"])
    def resend(self, request: HttpRequest, queryset: QuerySet[WebhookMessage]) -> None:
        results = [message_resend(message=message)
                   for message in queryset.select_related("endpoint")]
        succeeded = sum(result.succeeded for result in results)
        text = f"Resent {len(results)} message(s): {succeeded} succeeded."
        for result in results:
            if not result.succeeded:
                text += f" {result.attempt.message.webhook_id}: {result.summary}"
        self.message_user(request, text, messages.SUCCESS if succeeded == len(results)
                          else messages.WARNING)


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "endpoint", "message", "trigger", "outcome", "status_code",
                    "error_class", "latency_ms")
    list_filter = ("outcome", "trigger", "error_class", "endpoint")
    list_select_related = ("endpoint", "message")
    search_fields = ("message__webhook_id",)
    readonly_fields = ("message", "endpoint", "trigger", "started_at", "finished_at",
                       "latency_ms", "headers_json", "outcome", "status_code", "response_excerpt",
                       "error_class", "error", "next_attempt_at")
    fields = readonly_fields

    @admin.display(description="request headers (secrets redacted)")
    def headers_json(self, obj: WebhookAttempt) -> SafeString:
        return pretty_json(obj.request_headers)
