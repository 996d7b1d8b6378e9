"""Admin for recurring events: a weekly report, a daily reminder, on a crontab in a time zone.

A recurring event is a django-celery-beat ``PeriodicTask`` running
``notifications.trigger_event``; the proxy model below gives staff a page of
their own with a form in Clarion's terms (event type, recipients, data,
crontab, time zone) instead of raw task arguments. Writes go through
``recurring_event_save``, which validates recipients like the API does.
"""

from __future__ import annotations

import json
import zoneinfo
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django_celery_beat.models import PeriodicTask

from notifications.models import Application
from notifications.services.scheduling import (
    TRIGGER_EVENT_TASK,
    Crontab,
    recurring_event_commit,
    recurring_event_save,
)


class RecurringEvent(PeriodicTask):
    """A periodic task that triggers a Clarion event."""

    class Meta:
        proxy = True
        app_label = "notifications"
        verbose_name = "recurring event"


def _task_kwargs(task: PeriodicTask) -> dict[str, Any]:
    try:
        kwargs = json.loads(task.kwargs or "{}")
    except json.JSONDecodeError:
        return {}
    return kwargs if isinstance(kwargs, dict) else {}


class RecurringEventForm(forms.ModelForm):
    event_type = forms.CharField(max_length=200, help_text="e.g. report.weekly")
    recipients = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), initial="[]",
        help_text='JSON list, as "to" in the API: ["user-1", "#admins", {"email": "a@b.c"}]')
    data = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), initial="{}",
                           help_text="JSON object passed to templates as data.")
    application = forms.ChoiceField(
        choices=[], required=False,
        help_text="Optional: record the events under this Application (its directory is where "
                  "the names in recipients are looked up).")
    minute = forms.CharField(max_length=240, initial="0")
    hour = forms.CharField(max_length=96, initial="9")
    day_of_week = forms.CharField(max_length=64, initial="1", help_text="0-6, Sunday is 0; * for every day.")
    day_of_month = forms.CharField(max_length=124, initial="*")
    month_of_year = forms.CharField(max_length=64, initial="*")
    timezone = forms.ChoiceField(choices=[], initial="UTC")

    class Meta:
        model = RecurringEvent
        fields = ["name", "enabled", "description"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = [(z, z) for z in sorted(zoneinfo.available_timezones())]
        self.fields["application"].choices = [("", "— none (staff) —"), *(
            (name, name) for name in Application.objects.order_by("name")
            .values_list("name", flat=True))]
        # django-celery-beat's own help texts speak of its tasks, not of recurring events.
        self.fields["name"].help_text = "Shown in this list; unique."
        self.fields["enabled"].help_text = "Off: no events are triggered until it is on again."
        self.fields["description"].help_text = "For the people who will read this list."
        task = self.instance
        if task.pk:
            values = _task_kwargs(task)
            self.initial.update({
                "event_type": values.get("event_type", ""),
                "recipients": json.dumps(values.get("to") or []),
                "data": json.dumps(values.get("data") or {}, indent=2),
                "application": values.get("application") or "",
            })
            if task.crontab_id:
                cron = task.crontab
                self.initial.update({f: getattr(cron, f) for f in (
                    "minute", "hour", "day_of_week", "day_of_month", "month_of_year")})
                self.initial["timezone"] = str(cron.timezone)

    def _json(self, field: str, kind: type) -> Any:
        try:
            value = json.loads(self.cleaned_data.get(field) or "")
        except json.JSONDecodeError as exc:
            raise ValidationError(f"Not valid JSON: {exc}.") from exc
        if not isinstance(value, kind):
            raise ValidationError(f"Must be a JSON {'list' if kind is list else 'object'}.")
        return value

    def clean_recipients(self) -> list:
        return self._json("recipients", list)

    def clean_data(self) -> dict:
        return self._json("data", dict)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            # Validate and save in one step; ``save`` below only hands back the task.
            self._saved = recurring_event_save(
                task=self.instance,
                name=cleaned["name"], event_type=cleaned["event_type"],
                recipients=cleaned["recipients"], data=cleaned["data"],
                enabled=cleaned.get("enabled", True), description=cleaned.get("description", ""),
                application_name=cleaned.get("application", ""),
                crontab=Crontab(**{f: cleaned[f] for f in (
                    "minute", "hour", "day_of_week", "day_of_month", "month_of_year",
                    "timezone")}),
                commit=False)
        except ValidationError as exc:
            self._raise_on_fields(exc)
        return cleaned

    def _raise_on_fields(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            raise exc
        # The service speaks the API's names; "to" is the recipients field here.
        renamed = {("recipients" if k == "to" else k): v for k, v in exc.message_dict.items()}
        for field, messages in renamed.items():
            self.add_error(field if field in self.fields else None, messages)

    def save(self, commit: bool = True) -> PeriodicTask:
        task = self._saved
        if commit:
            recurring_event_commit(task=task)
        return task

    def save_m2m(self) -> None:
        """No many-to-many fields; the admin calls this after ``save``."""


@admin.register(RecurringEvent)
class RecurringEventAdmin(admin.ModelAdmin):
    form = RecurringEventForm
    list_display = ("name", "event_type", "schedule", "enabled", "last_run_at")
    list_filter = ("enabled",)
    search_fields = ("name",)
    fieldsets = (
        (None, {"fields": ("name", "enabled", "description")}),
        ("Event", {"fields": ("event_type", "recipients", "data", "application")}),
        ("Schedule (crontab)", {"fields": ("minute", "hour", "day_of_week", "day_of_month",
                                           "month_of_year", "timezone")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[PeriodicTask]:
        return super().get_queryset(request).filter(task=TRIGGER_EVENT_TASK).select_related(
            "crontab")

    def save_model(self, request: HttpRequest, obj: PeriodicTask, form: Any, change: bool) -> None:
        # The admin saves the form with commit=False; the new crontab row comes first.
        recurring_event_commit(task=obj)

    @admin.display(description="event type")
    def event_type(self, task: PeriodicTask) -> str:
        return _task_kwargs(task).get("event_type", "")

    @admin.display(description="schedule")
    def schedule(self, task: PeriodicTask) -> str:
        return str(task.crontab) if task.crontab_id else "-"
