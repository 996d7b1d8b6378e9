"""Template preview pages: every template of a rule, or one template, rendered with sample data.

Staff paste (or keep) sample event data as JSON; each field of each template is
rendered on its own with ``render_fields`` and ``sample_context``, so one broken
field shows its error and line without hiding the others. HTML bodies are
shown rendered in a sandboxed ``iframe`` (``srcdoc``, no scripts, no same-origin)
and as source. Nothing is saved: a preview only reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from notifications.admin.common import admin_url
from notifications.models import MessageTemplate, Rule
from notifications.selectors.rules import rule_channels_without_template
from notifications.templating import TemplateProblem, render_fields, sample_context

_FIELD_LABELS = {
    "subject": "Subject", "text_body": "Text body", "html_body": "HTML body",
    "short_body": "Short body (SMS, chat)", "inapp_title": "In-app title",
    "inapp_body": "In-app body", "action_url": "Action URL", "push_data": "Push data",
    "push_badge": "Push badge", "push_sound": "Push sound",
}


class SampleDataForm(forms.Form):
    sample_data = forms.CharField(
        label="Sample event data (JSON object)", required=False,
        widget=forms.Textarea(attrs={"rows": 12, "cols": 80, "style": "font-family: monospace"}),
        help_text="Templates see it as data; event, subscriber and recipient are samples.")

    def clean_sample_data(self) -> dict[str, Any]:
        text = self.cleaned_data["sample_data"].strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") from exc
        if not isinstance(value, dict):
            raise forms.ValidationError("The sample data must be a JSON object ({…}).")
        return value


@dataclass
class FieldPreview:
    name: str
    label: str
    source: str
    output: str = ""
    error: str = ""
    line: int | None = None
    is_html: bool = False


@dataclass
class TemplatePreview:
    template: MessageTemplate
    change_url: str
    fields: list[FieldPreview] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return any(f.error for f in self.fields)


def template_preview(template: MessageTemplate, context: dict[str, Any]) -> TemplatePreview:
    """Render each non-empty field of ``template`` separately, keeping output or error."""
    preview = TemplatePreview(template=template, change_url=admin_url(template))
    for name, source in template.sources().items():
        item = FieldPreview(name=name, label=_FIELD_LABELS.get(name, name), source=source,
                            is_html=name in template.HTML_FIELDS)
        try:
            item.output = render_fields({name: source}, context,
                                        html_fields=template.HTML_FIELDS)[name]
        except TemplateProblem as problem:
            # The line is shown separately, so the message goes without its "line N:" prefix.
            item.error, item.line = problem.message, problem.line
        preview.fields.append(item)
    return preview


def _sample_from(request: HttpRequest, initial: dict[str, Any]) -> tuple[SampleDataForm,
                                                                          dict[str, Any] | None]:
    """The form, and the sample to render with (None when the posted JSON is unusable)."""
    if request.method == "POST":
        form = SampleDataForm(request.POST)
        return form, (form.cleaned_data["sample_data"] if form.is_valid() else None)
    form = SampleDataForm(initial={"sample_data": json.dumps(initial, indent=2,
                                                             ensure_ascii=False)})
    return form, initial


def _render(model_admin: admin.ModelAdmin, request: HttpRequest, obj: Any,
            context: dict[str, Any]) -> TemplateResponse:
    opts = model_admin.opts
    return TemplateResponse(request, "admin/notifications/preview.html", {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "original": obj,
        "change_url": admin_url(obj),
        "has_view_permission": True,
        **context,
    })


def _get_or_404(model_admin: admin.ModelAdmin, request: HttpRequest, object_id: str) -> Any:
    obj = model_admin.get_object(request, object_id)
    if obj is None:
        raise Http404(f"No {model_admin.opts.verbose_name} with id {object_id!r}.")
    if not model_admin.has_view_permission(request, obj):
        raise PermissionDenied
    return obj


def rule_preview_view(model_admin: admin.ModelAdmin, request: HttpRequest,
                      object_id: str) -> HttpResponse:
    """Every template of a rule (each channel and locale) rendered with the sample data."""
    rule: Rule = _get_or_404(model_admin, request, object_id)
    form, sample = _sample_from(request, rule.sample_data or {})
    templates = list(rule.templates.order_by("channel", "locale"))
    previews = []
    if sample is not None:
        context = sample_context(sample, rule.event_type)
        previews = [template_preview(template, context) for template in templates]
    return _render(model_admin, request, rule, {
        "title": f"Preview templates of {rule}",
        "form": form,
        "previews": previews,
        "missing_channels": rule_channels_without_template(rule),
        "webhook": "webhook" in rule.channels,
    })


def template_preview_view(model_admin: admin.ModelAdmin, request: HttpRequest,
                          object_id: str) -> HttpResponse:
    """One template rendered with its rule's sample data (or the data typed in)."""
    template: MessageTemplate = _get_or_404(model_admin, request, object_id)
    rule = template.rule
    form, sample = _sample_from(request, (rule.sample_data if rule else None) or {})
    previews = []
    if sample is not None:
        event_type = rule.event_type if rule else template.event_type
        previews = [template_preview(template, sample_context(sample, event_type))]
    return _render(model_admin, request, template, {
        "title": f"Preview template {template}",
        "form": form,
        "previews": previews,
        "missing_channels": [],
    })
