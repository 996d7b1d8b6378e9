"""Small pieces every notifications ModelAdmin shares: links to other admin pages,
pretty-printed JSON for read-only pages, inlines that only show rows, a search
that matches UUID primary keys exactly, and the JSON form field every admin form uses.
Nothing here knows about a particular model's business rules; it only helps pages look
and behave the same way.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin import options as admin_options
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString


class StorableJSONField(forms.JSONField):
    """JSON that every database can store: no NUL and no unpaired surrogate anywhere, and
    nesting within the API's limit, or the form names the problem (PostgreSQL would refuse
    such a value only when saving, as a server error)."""

    def to_python(self, value):
        from django.conf import settings

        from notifications.api.parsers import json_problem

        data = super().to_python(value)
        if problem := json_problem(data, max_depth=settings.API_MAX_JSON_DEPTH):
            raise ValidationError(problem, code="invalid")
        return data

    def bound_data(self, data, initial):
        # Shown again as typed: decoded, an unpaired surrogate could not even be rendered.
        from django.forms.fields import InvalidJSONInput

        try:
            self.to_python(data)
        except ValidationError:
            return InvalidJSONInput(data)
        return super().bound_data(data, initial)


# Every ModelAdmin's JSON fields, Clarion's and the libraries', use the field above.
admin_options.FORMFIELD_FOR_DBFIELD_DEFAULTS[models.JSONField] = {"form_class": StorableJSONField}


def admin_url(obj: models.Model, view: str = "change") -> str:
    """The admin URL of ``obj``'s ``view`` page (``change``, ``delete``, ``preview``…)."""
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[obj.pk])


def admin_link(obj: models.Model | None, text: str | None = None) -> SafeString | str:
    """An ``<a>`` to ``obj``'s change page, or a dash when there is no object."""
    if obj is None:
        return "-"
    return format_html('<a href="{}">{}</a>', admin_url(obj), text if text is not None else obj)


def pretty_json(value: Any) -> SafeString:
    """JSON as an indented, escaped ``<pre>`` block for read-only pages."""
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return format_html('<pre style="margin:0;white-space:pre-wrap">{}</pre>', text)


class ReadOnlyInline(admin.TabularInline):
    """An inline that lists related rows without letting anyone add, change or remove them."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


class UUIDSearchMixin:
    """Search that also finds rows by a pasted UUID (the row's own id or a related one).

    A UUID field cannot take part in Django's usual ``icontains`` search on every
    database, and an exact lookup with a word that is not a UUID raises; so
    ``uuid_search_fields`` are matched exactly, and only with terms that parse.
    """

    uuid_search_fields: tuple[str, ...] = ("id",)

    def get_search_results(self, request: HttpRequest, queryset: QuerySet,
                           search_term: str) -> tuple[QuerySet, bool]:
        results, may_have_duplicates = super().get_search_results(  # type: ignore[misc]
            request, queryset, search_term)
        ids = []
        for word in search_term.split():
            try:
                ids.append(uuid.UUID(word.strip("\"'")))
            except ValueError:
                continue
        if ids:
            match = Q()
            for field in self.uuid_search_fields:
                match |= Q(**{f"{field}__in": ids})
            results = results | queryset.filter(match)
        return results, may_have_duplicates
