"""Admin for relay channels: the names the URL-only relay posts to, and how to call them.

A relay channel points at one chat or SMS target or at a group; webhook and
Apprise URLs are stored encrypted and shown masked (``RelayChannel.clean``
validates the target and keeps only its reference). Each channel's page shows
the ``curl`` line a CI job would use.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from notifications.models import RelayChannel


@admin.register(RelayChannel)
class RelayChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "target", "enabled", "updated_at")
    list_filter = ("enabled", "channel")
    search_fields = ("name", "description")
    autocomplete_fields = ("group",)
    readonly_fields = ("how_to_call", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "description", "enabled")}),
        ("Target: a channel and address, or a group", {"fields": ("channel", "address", "group")}),
        ("Use", {"fields": ("how_to_call", "created_at", "updated_at")}),
    )

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("group")

    @admin.display(description="target")
    def target(self, obj: RelayChannel) -> str:
        return obj.target_display

    @admin.display(description="how to call it")
    def how_to_call(self, obj: RelayChannel) -> SafeString | str:
        if obj.pk is None:
            return "Save the channel first."
        base = settings.PUBLIC_BASE_URL or "https://clarion.example.com"
        line = (f'curl -fsS -H "Authorization: Bearer $CLARION_RELAY_KEY" '
                f'"{base}/post/channel/{obj.name}/msg/Build%20done"')
        return format_html(
            '<pre style="white-space:pre-wrap;margin:0">{}</pre><div class="help">The key is an '
            'API key with the <code>relay:post</code> scope. The answer is 200 with the '
            'delivery id once the message was accepted, 502 with the error otherwise.</div>',
            line)
