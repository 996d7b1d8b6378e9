"""Query-string filters for the list endpoints."""

from __future__ import annotations

from datetime import UTC

import django_filters
from django import forms
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError

from notifications.models import Channel, Delivery, DeliveryStatus, Event, EventStatus


class UtcDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO-8601 time, handed to the database in UTC: PostgreSQL refuses offsets beyond
    ±15:59 that Python accepts, and a time at the edge of the calendar may not convert."""

    def to_python(self, value):
        parsed = super().to_python(value)
        try:
            return parsed.astimezone(UTC) if parsed is not None and parsed.tzinfo else parsed
        except OverflowError:
            raise forms.ValidationError("The date is out of range.") from None


_BOOLEANS = frozenset({"true", "false", "1", "0"})


class StrictFilterBackend(DjangoFilterBackend):
    """A filter parameter that is given must mean something: an empty value, or a yes/no
    filter given neither, is a 400 naming the parameter. django-filter would drop it
    silently, and the caller would get every row thinking they were filtered."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        problems = {}
        for name, given in filterset.filters.items():
            value = request.query_params.get(name)
            if value is None:
                continue
            if value == "":
                problems[name] = ["Give a value, or leave the parameter out."]
            elif isinstance(given, django_filters.BooleanFilter) and value.lower() not in _BOOLEANS:
                problems[name] = ["Use true or false."]
        if problems:
            raise ValidationError(problems)
        return filterset


class SinceFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class DeliveryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    event = django_filters.UUIDFilter(field_name="event_id")
    subscriber = django_filters.CharFilter(field_name="subscriber__external_id")
    since = SinceFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Delivery
        fields = ["status", "channel", "event", "subscriber", "since"]


class EventFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=EventStatus.choices)
    event = django_filters.CharFilter(field_name="event_type")
    since = SinceFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Event
        fields = ["status", "event", "since"]
