"""Pipeline integration: rules with the webhook channel fan events out to subscribed endpoints."""

from __future__ import annotations

import pytest

from notifications.models import Delivery
from notifications.services.dispatch import event_dispatch_again
from tests.factories import ApplicationFactory
from tests.webhooks.factories import EndpointFactory, webhook_rule
from tests.webhooks.helpers import trigger
from webhooks.models import WebhookMessage

pytestmark = pytest.mark.django_db


def endpoint_ids(event) -> set[str]:
    return {d.recipient_key.removeprefix("endpoint:") for d in event.deliveries.all()}


def test_event_reaches_each_subscribed_enabled_endpoint_of_its_application(
        receiver, django_capture_on_commit_callbacks):
    webhook_rule(event_type="order.*")
    app = ApplicationFactory()
    every = EndpointFactory(application=app, url=receiver.url)
    exact = EndpointFactory(application=app, url=receiver.url, event_types=["order.shipped"])
    wildcard = EndpointFactory(application=app, url=receiver.url, event_types=["order.*"])
    EndpointFactory(application=app, url=receiver.url, event_types=["invoice.paid"])
    EndpointFactory(application=app, url=receiver.url, enabled=False)
    EndpointFactory(url=receiver.url)  # another Application's
    event = trigger(django_capture_on_commit_callbacks, application=app)
    assert endpoint_ids(event) == {str(every.pk), str(exact.pk), str(wildcard.pk)}
    assert len(receiver.requests) == 3
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 3
    assert all(d.status == "delivered" for d in event.deliveries.all())


def test_without_a_webhook_rule_nothing_is_sent(receiver, django_capture_on_commit_callbacks):
    endpoint = EndpointFactory(url=receiver.url)
    event = trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    assert not event.deliveries.exists() and receiver.requests == []


def test_events_without_an_application_reach_no_endpoint(receiver,
                                                         django_capture_on_commit_callbacks):
    webhook_rule()
    EndpointFactory(url=receiver.url)
    event = trigger(django_capture_on_commit_callbacks, application=None)
    assert not event.deliveries.exists() and receiver.requests == []


def test_dispatching_the_same_event_again_makes_no_second_message(
        receiver, django_capture_on_commit_callbacks):
    webhook_rule()
    endpoint = EndpointFactory(url=receiver.url)
    event = trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    with django_capture_on_commit_callbacks(execute=True):
        event_dispatch_again(event=event)
    event.refresh_from_db()
    assert event.status == "processed"
    assert Delivery.objects.count() == 1 and WebhookMessage.objects.count() == 1
    assert len(receiver.requests) == 1


def test_endpoint_added_later_is_reached_by_dispatching_again(receiver,
                                                              django_capture_on_commit_callbacks):
    webhook_rule()
    first = EndpointFactory(url=receiver.url)
    event = trigger(django_capture_on_commit_callbacks, application=first.application)
    EndpointFactory(application=first.application, url=receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        event_dispatch_again(event=event)
    assert WebhookMessage.objects.count() == 2 and len(receiver.requests) == 2


def test_two_webhook_rules_still_send_one_message_per_endpoint(
        receiver, django_capture_on_commit_callbacks):
    webhook_rule(event_type="order.*")
    webhook_rule(event_type="order.shipped")
    endpoint = EndpointFactory(url=receiver.url)
    event = trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    assert event.deliveries.count() == 2
    assert WebhookMessage.objects.count() == 1 and len(receiver.requests) == 1
    message = WebhookMessage.objects.get()
    assert {d.provider_message_id for d in event.deliveries.all()} == {message.webhook_id}


def test_delivery_address_shows_no_path_or_query(django_capture_on_commit_callbacks, receiver):
    webhook_rule()
    endpoint = EndpointFactory(url=receiver.url + "?token=abc123")
    event = trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    delivery = event.deliveries.get()
    assert delivery.address == receiver.url.rsplit("/hooks", 1)[0]
    assert "abc123" not in delivery.address
