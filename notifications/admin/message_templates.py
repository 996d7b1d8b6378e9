"""Admin for message templates: the inline on a rule and the standalone page.

``MessageTemplate.clean`` checks every field for syntax and, with the rule's
sample data, for undefined variables, so the ModelForm shows each problem (with
its line) next to the field on save. Two gaps of the inline are closed here: on
"add" the rule is not saved yet, and conditional unique constraints on
(rule, channel, locale) are not checked across the inline's rows by Django.
"""

from __future__ import annotations

import json
from functools import partial

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path

from notifications.admin.preview import template_preview_view
from notifications.models import MessageTemplate, Rule
from notifications.templating import template_validate

_CONTENT_FIELDS = MessageTemplate.TEXT_FIELDS + MessageTemplate.HTML_FIELDS


def _clean_for_unsaved_rule(template: MessageTemplate, rule: Rule) -> None:
    """What ``MessageTemplate.clean`` checks, for a template whose rule is not saved yet."""
    # A stand-in carrying the rule's event type, so the sample context is the same
    # as once the rule exists; the real template is left untouched.
    stand_in = MessageTemplate(event_type=rule.event_type, channel=template.channel,
                               locale=template.locale,
                               **{name: getattr(template, name) for name in _CONTENT_FIELDS})
    # A sample that is not an object is reported on the rule's own field; here
    # it would only turn every variable into a spurious error.
    sample = rule.sample_data if isinstance(rule.sample_data, dict) else {}
    errors = template_validate(template=stand_in, sample_data=sample)
    if errors:
        raise ValidationError(errors)


class ChannelFieldsMedia:
    """Shows each template only the fields its channel uses (static/admin_clarion/
    template_fields.js reads the map from the channel select); a field that already holds
    text stays visible whatever the channel, so nothing typed is hidden."""

    class Media:
        js = ("admin_clarion/template_fields.js",)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "channel" and field is not None:
            field.widget.attrs["data-channel-fields"] = json.dumps(MessageTemplate.CHANNEL_FIELDS)
        return field


class MessageTemplateInlineForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        # No event_type: a template on a rule belongs to the rule, not to an event type.
        fields = ("channel", "locale", *_CONTENT_FIELDS)


    def _post_clean(self) -> None:
        rule = self.fields["rule"].parent_instance
        if rule.pk is not None:
            super()._post_clean()
            return
        # While a new rule is being added, ``rule_id`` stays None until it is saved,
        # so MessageTemplate.clean would reject every template as having "neither a
        # rule nor an event type". For this one instance, run the same checks
        # against the unsaved rule instead; everything else ModelForm does is kept.
        self.instance.clean = partial(_clean_for_unsaved_rule, self.instance, rule)
        try:
            super()._post_clean()
        finally:
            del self.instance.clean


class MessageTemplateFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        # The (rule, channel, locale) constraint is conditional, which Django's
        # formset uniqueness check skips; without this, a duplicate row would
        # reach the database as an IntegrityError. Locales are compared the way
        # the template lookup compares them: case-insensitively.
        seen: set[tuple[str, str]] = set()
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or not data.get("channel"):
                continue
            key = (data["channel"], (data.get("locale") or "").lower())
            if key in seen:
                raise ValidationError(
                    f"Two templates for channel {key[0]!r} and locale {key[1] or 'default'!r}; "
                    "keep one.")
            seen.add(key)


class MessageTemplateInline(ChannelFieldsMedia, admin.StackedInline):
    model = MessageTemplate
    form = MessageTemplateInlineForm
    formset = MessageTemplateFormSet
    extra = 0
    fields = (("channel", "locale"), "subject", "text_body", "html_body", "short_body",
              ("inapp_title", "action_url"), "inapp_body", "push_data",
              ("push_badge", "push_sound"))
    show_change_link = True

    def get_extra(self, request: HttpRequest, obj: Rule | None = None, **kwargs) -> int:
        # A new rule starts with one empty template; an existing one shows what it has.
        return 1 if obj is None else 0


@admin.register(MessageTemplate)
class MessageTemplateAdmin(ChannelFieldsMedia, admin.ModelAdmin):
    list_display = ("__str__", "rule", "event_type", "channel", "locale", "updated_at")
    list_filter = ("channel", "locale", "rule")
    list_select_related = ("rule",)
    search_fields = ("rule__name", "event_type", "subject", "locale")
    autocomplete_fields = ("rule",)
    readonly_fields = ("updated_at",)
    fieldsets = (
        ("Used for", {"fields": ("rule", "event_type", "channel", "locale"),
                      "description": "Either a rule, or an event type shared by every rule "
                                     "of that type."}),
        ("E-mail", {"fields": ("subject", "text_body", "html_body")}),
        ("SMS and chat", {"fields": ("short_body",)}),
        ("In-app", {"fields": ("inapp_title", "inapp_body", "action_url")}),
        ("Push", {"fields": ("push_data", "push_badge", "push_sound"),
                  "description": "The title is the subject, the body the short (or text) "
                                 "body, and a tap opens the action URL."}),
        (None, {"fields": ("updated_at",)}),
    )

    def get_urls(self) -> list[URLPattern]:
        preview = path("<path:object_id>/preview/",
                       self.admin_site.admin_view(self.preview_view),
                       name="notifications_messagetemplate_preview")
        return [preview, *super().get_urls()]

    def preview_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return template_preview_view(self, request, object_id)
