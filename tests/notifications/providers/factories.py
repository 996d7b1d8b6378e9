"""Data for the chat and SMS tests: a rule on one channel with its template, and triggering it."""

from __future__ import annotations

import factory

from notifications.models import Delivery, Event, MessageTemplate, RelayChannel
from notifications.services.events import event_ingest
from tests.factories import RuleFactory


class ChatTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MessageTemplate

    rule = factory.SubFactory(RuleFactory)
    channel = "matrix"
    subject = "Order {{ data.order_id }} shipped"
    short_body = "Order **{{ data.order_id }}** is on its way."
    action_url = "https://shop.example.com/orders/{{ data.order_id }}"


class RelayChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RelayChannel

    name = factory.Sequence(lambda n: f"relay-{n}")
    channel = "matrix"
    address = "!deploys:hs.test"


def chat_rule(channel: str, **template_fields):
    """An enabled rule on ``order.shipped`` sending to the event's recipients over ``channel``."""
    rule = RuleFactory(event_type="order.shipped", channels=[channel], audience="recipients")
    ChatTemplateFactory(rule=rule, channel=channel, **template_fields)
    return rule


def trigger(capture, *, to: list, data: dict | None = None) -> Event:
    """Ingest ``order.shipped`` and run the pipeline (tasks are eager, on commit)."""
    with capture(execute=True):
        event, _ = event_ingest(event_type="order.shipped", recipients=to,
                                data=data or {"order_id": "A-17"})
    return event


def only_delivery(event: Event) -> Delivery:
    [delivery] = Delivery.objects.filter(event=event)
    return delivery


def pending_delivery(channel: str, address: str, rendered: dict | None = None) -> Delivery:
    """A queued delivery with its words already rendered, for calling a provider directly."""
    from notifications.services.direct import direct_event_create

    _event, [delivery] = direct_event_create(
        event_type="test.direct", data={}, targets=[(channel, address)],
        rendered=rendered or {"short_body": "Disk almost full"})
    return Delivery.objects.select_related("event").get(pk=delivery.pk)
