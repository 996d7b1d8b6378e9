"""Devices in the admin: tokens masked, each device's last success and last error, and the
list of a subscriber's devices on the subscriber's own page."""

from __future__ import annotations

from django.contrib import admin

from notifications.models import Subscriber
from push.models import Device, DeviceAttempt


@admin.display(description="token")
def masked_token(device: Device) -> str:
    return device.masked_token


_SHOWN = ("kind", "masked_token", "label", "enabled", "disabled_reason", "last_success_at",
          "last_error_at", "last_error", "created_at")


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ("subscriber", "kind", "masked_token", "label", "enabled", "last_success_at",
                    "last_error_at")
    list_filter = ("kind", "enabled")
    search_fields = ("subscriber__external_id", "label")
    list_select_related = ("subscriber",)
    # Tokens are credentials to reach a person's phone: shown masked, never editable here.
    fields = ("subscriber", *_SHOWN, "apns_topic", "apns_environment")
    readonly_fields = ("subscriber", *_SHOWN, "apns_topic", "apns_environment")
    actions = ["disable"]

    masked_token = staticmethod(masked_token)

    def has_add_permission(self, request) -> bool:
        return False  # devices register themselves (API), with a token only they know

    @admin.action(description="Stop pushing to the selected devices")
    def disable(self, request, queryset) -> None:
        changed = queryset.update(enabled=False, disabled_reason="Disabled by staff.")
        self.message_user(request, f"{changed} device(s) disabled.")


class DeviceInline(admin.TabularInline):
    model = Device
    fields = _SHOWN
    readonly_fields = _SHOWN
    extra = 0
    can_delete = True
    show_change_link = True
    verbose_name_plural = "push devices"

    masked_token = staticmethod(masked_token)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(DeviceAttempt)
class DeviceAttemptAdmin(admin.ModelAdmin):
    list_display = ("at", "device", "delivery", "number", "outcome", "status_code", "error")
    list_filter = ("outcome",)
    list_select_related = ("device", "delivery")
    readonly_fields = [f.name for f in DeviceAttempt._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# A subscriber's page lists their devices (the push app adds this; the core knows nothing of it).
_subscriber_admin = admin.site.get_model_admin(Subscriber)
_subscriber_admin.inlines = [*_subscriber_admin.inlines, DeviceInline]
