"""Query-string filters for the endpoint list, its logs and its messages."""

from __future__ import annotations

import django_filters

from notifications.api.filters import SinceFilter
from webhooks.models import AttemptOutcome, MessageStatus, Trigger, WebhookAttempt, WebhookMessage


class AttemptFilter(django_filters.FilterSet):
    outcome = django_filters.ChoiceFilter(choices=AttemptOutcome.choices)
    trigger = django_filters.ChoiceFilter(choices=Trigger.choices)
    message = django_filters.CharFilter(field_name="message__webhook_id")
    since = SinceFilter(field_name="started_at", lookup_expr="gte")

    class Meta:
        model = WebhookAttempt
        fields = ["outcome", "trigger", "message", "since"]


class MessageFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=MessageStatus.choices)
    trigger = django_filters.ChoiceFilter(choices=Trigger.choices)
    event = django_filters.UUIDFilter(field_name="event_id")
    since = SinceFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = WebhookMessage
        fields = ["status", "trigger", "event", "since"]
