"""Query-string filters for the list endpoints."""

from __future__ import annotations

import django_filters

from notifications.models import Channel, Delivery, DeliveryStatus, Event, EventStatus


class DeliveryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    event = django_filters.UUIDFilter(field_name="event_id")
    subscriber = django_filters.CharFilter(field_name="subscriber__external_id")
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Delivery
        fields = ["status", "channel", "event", "subscriber", "since"]


class EventFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=EventStatus.choices)
    event = django_filters.CharFilter(field_name="event_type")
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Event
        fields = ["status", "event", "since"]
