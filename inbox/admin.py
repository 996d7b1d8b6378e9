"""Admin for the inbox: browse notifications, see preferences and quiet hours, push connections."""

from __future__ import annotations

from django.contrib import admin

from inbox.models import Notification, Preference, PushConnection, QuietHours


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "subscriber", "category", "level", "created_at", "read_at",
                    "deleted_at"]
    list_filter = ["level", "category", ("read_at", admin.EmptyFieldListFilter),
                   ("deleted_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["title", "body", "subscriber__external_id"]
    list_select_related = ["subscriber", "category"]
    raw_id_fields = ["subscriber", "delivery"]
    readonly_fields = ["created_at"]
    date_hierarchy = "created_at"


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ["subscriber", "category", "channel", "enabled", "updated_at"]
    list_filter = ["enabled", "channel", "category"]
    search_fields = ["subscriber__external_id"]
    raw_id_fields = ["subscriber"]


@admin.register(QuietHours)
class QuietHoursAdmin(admin.ModelAdmin):
    list_display = ["subscriber", "start", "end", "timezone", "enabled"]
    list_filter = ["enabled", "timezone"]
    search_fields = ["subscriber__external_id"]
    raw_id_fields = ["subscriber"]


@admin.register(PushConnection)
class PushConnectionAdmin(admin.ModelAdmin):
    list_display = ["user_id", "application", "created_at", "last_seen_at"]
    list_filter = ["application"]
    search_fields = ["user_id"]
    readonly_fields = ["created_at", "last_seen_at"]
