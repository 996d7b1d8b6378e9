"""Admin for what is said about which events: categories and rules.

A rule is edited together with its message templates (an inline whose
validation lives in ``notifications.admin.message_templates``). Staff can open a
preview of every template of the rule and send a test event that goes through
the real pipeline to the rule's groups and to the staff member's own subscriber.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.utils.html import format_html

from notifications.admin.common import admin_url
from notifications.admin.message_templates import MessageTemplateInline
from notifications.admin.preview import rule_preview_view
from notifications.models import Category, Channel, Rule
from notifications.selectors.rules import rule_channels_without_template
from notifications.services.admin_actions import rule_test_event_send


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("key", "name", "critical", "throttle_limit", "throttle_window_seconds",
                    "rule_count")
    list_filter = ("critical",)
    search_fields = ("key", "name", "description")
    prepopulated_fields = {"key": ("name",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        return super().get_queryset(request).annotate(rule_total=Count("rules"))

    @admin.display(description="rules", ordering="rule_total")
    def rule_count(self, obj: Category) -> int:
        return obj.rule_total


class RuleForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(choices=Channel.choices,
                                         widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Rule
        fields = ("name", "description", "enabled", "category", "event_type", "condition",
                  "audience", "groups", "channels", "delay_seconds", "digest_window_seconds",
                  "digest_at", "digest_key", "escalate_after_minutes", "escalate_channel",
                  "sample_data")
        widgets = {"condition": forms.Textarea(attrs={"rows": 2})}

    def clean_channels(self) -> list[str]:
        # Stored in the order channels are declared, whatever order the browser posts.
        chosen = set(self.cleaned_data["channels"])
        return [channel for channel in Channel.values if channel in chosen]

    def clean_sample_data(self) -> Any:
        # An emptied textarea means "no sample data", not JSON null.
        value = self.cleaned_data.get("sample_data")
        return {} if value is None else value


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    form = RuleForm
    list_display = ("name", "event_type", "channel_list", "audience", "category", "enabled")
    list_filter = ("enabled", "category", "audience")
    list_select_related = ("category",)
    search_fields = ("name", "event_type", "description")
    autocomplete_fields = ("category", "groups")
    readonly_fields = ("created_at", "updated_at")
    save_on_top = True
    fieldsets = (
        (None, {"fields": ("name", "description", "enabled", "category")}),
        ("When", {"fields": ("event_type", "condition")}),
        ("Who and how", {"fields": ("audience", "groups", "channels")}),
        ("Timing", {"fields": ("delay_seconds", ("digest_window_seconds", "digest_at"),
                               "digest_key", ("escalate_after_minutes", "escalate_channel")),
                    "description": "Hold messages, batch them into digests, or escalate "
                                   "unread in-app messages to another channel."}),
        ("Sample data", {"fields": ("sample_data",),
                         "description": "Used by the preview, by test events and to check "
                                        "templates for undefined variables on save."}),
        ("History", {"fields": ("created_at", "updated_at")}),
    )
    inlines = [MessageTemplateInline]
    actions = ["send_test_event"]

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # Saved (the rule may be finished in steps), but never silently broken.
        missing = rule_channels_without_template(form.instance)
        if missing:
            self.message_user(request, f"{form.instance}: no template for "
                                       f"{', '.join(missing)}; those deliveries will fail until "
                                       f"one is added (here, or for the event type).",
                              messages.WARNING)

    @admin.display(description="channels")
    def channel_list(self, obj: Rule) -> str:
        return ", ".join(obj.channels or []) or "-"

    def get_urls(self) -> list[URLPattern]:
        preview = path("<path:object_id>/preview/",
                       self.admin_site.admin_view(self.preview_view),
                       name="notifications_rule_preview")
        return [preview, *super().get_urls()]

    def preview_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return rule_preview_view(self, request, object_id)

    @admin.action(description="Send test event", permissions=["change"])
    def send_test_event(self, request: HttpRequest, queryset: QuerySet[Rule]) -> None:
        # RelatedObjectDoesNotExist is an AttributeError, so getattr covers "no subscriber".
        staff_subscriber = getattr(request.user, "subscriber", None)
        for rule in queryset:
            if not rule.enabled:
                self.message_user(request, f"{rule}: disabled, so a test event would not reach "
                                           "it. Enable the rule first.", messages.WARNING)
                continue
            try:
                event = rule_test_event_send(rule=rule, staff_subscriber=staff_subscriber)
            except ValidationError as exc:
                self.message_user(request, f"{rule}: the test event was refused: "
                                           f"{' '.join(exc.messages)}", messages.ERROR)
                continue
            note = "" if event.recipients else (
                " It has no recipients: the rule has no groups and your user has no "
                "subscriber.")
            self.message_user(request, format_html(
                '{}: sent test event <a href="{}">{}</a>.{}', rule, admin_url(event),
                event.event_type, note), messages.SUCCESS)
