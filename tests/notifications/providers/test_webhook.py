"""WebhookProvider against the provider contract, and the core's retry_delay hook it relies on."""

from __future__ import annotations

import pytest
from django.utils import timezone

from notifications.models import Delivery
from notifications.providers import PermanentError, Provider, provider_for
from notifications.services.deliveries import delivery_send
from notifications.services.events import event_ingest
from tests.factories import ApplicationFactory
from tests.webhooks.factories import EndpointFactory, webhook_rule
from tests.webhooks.receiver import Receiver
from webhooks.provider import WebhookProvider

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.WEBHOOK_REQUIRE_HTTPS = False
    with Receiver() as running:
        yield running


def queued_delivery(endpoint, capture) -> Delivery:
    """A webhook delivery created by the pipeline but not yet sent."""
    webhook_rule()
    with capture(execute=False):
        event, _ = event_ingest(event_type="order.shipped", recipients=[], data={},
                                application=endpoint.application)
    from notifications.services.dispatch import event_process

    with capture(execute=False):
        event_process(event_id=event.pk)
    return Delivery.objects.get(event=event)


def test_registry_maps_the_webhook_channel():
    provider = provider_for("webhook")
    assert isinstance(provider, WebhookProvider)
    assert provider.needs_template is False and provider.is_configured()


def test_endpoints_for_lists_subscribed_enabled_endpoints_of_the_events_application():
    app = ApplicationFactory()
    wanted = EndpointFactory(application=app, event_types=["order.*"])
    EndpointFactory(application=app, event_types=["invoice.*"])
    EndpointFactory(application=app, enabled=False)
    EndpointFactory()
    event, _ = event_ingest(event_type="order.shipped", recipients=[], data={}, application=app)
    assert WebhookProvider().endpoints_for(event) == [
        (f"endpoint:{wanted.pk}", "https://hooks.example.com")]


def test_endpoints_for_an_event_without_application_is_empty_not_people():
    EndpointFactory()
    event, _ = event_ingest(event_type="order.shipped", recipients=[], data={})
    assert WebhookProvider().endpoints_for(event) == []  # None would mean "reach the audience"


def test_base_retry_delay_keeps_the_core_backoff_and_attempt_limit(settings):
    settings.DELIVERY_MAX_ATTEMPTS = 3
    settings.DELIVERY_RETRY_BASE_SECONDS = 10
    provider = Provider()
    assert 8 <= provider.retry_delay(attempts=1, retry_after=None) <= 12
    assert provider.retry_delay(attempts=2, retry_after=100) >= 100
    assert provider.retry_delay(attempts=3, retry_after=None) is None


def test_webhook_retry_delay_follows_its_own_schedule(settings):
    settings.DELIVERY_MAX_ATTEMPTS = 3
    provider = WebhookProvider()
    assert provider.retry_delay(attempts=5, retry_after=18000.0) == 18000.0
    assert 4 <= provider.retry_delay(attempts=1, retry_after=None) <= 6
    assert 0.8 * 86400 <= provider.retry_delay(attempts=9, retry_after=None) <= 1.2 * 86400
    assert provider.retry_delay(attempts=10, retry_after=None) is None


def test_core_asks_the_provider_how_long_to_wait_after_an_unexpected_error(
        monkeypatch, django_capture_on_commit_callbacks):
    endpoint = EndpointFactory()
    delivery = queued_delivery(endpoint, django_capture_on_commit_callbacks)

    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr("webhooks.provider.deliveries_deliver", broken)
    before = timezone.now()
    delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "queued" and "Unexpected RuntimeError" in delivery.last_error
    wait = (delivery.next_attempt_at - before).total_seconds()
    assert 4 <= wait <= 6.5  # the webhook schedule's 5 s, not the core's 10 s base


def test_send_to_a_deleted_endpoint_is_permanent(django_capture_on_commit_callbacks):
    endpoint = EndpointFactory()
    delivery = queued_delivery(endpoint, django_capture_on_commit_callbacks)
    endpoint.delete()
    with pytest.raises(PermanentError, match="deleted"):
        WebhookProvider().send(delivery)


def test_send_after_success_does_not_post_again(receiver, django_capture_on_commit_callbacks):
    endpoint = EndpointFactory(url=receiver.url)
    delivery = queued_delivery(endpoint, django_capture_on_commit_callbacks)
    first = WebhookProvider().send(delivery)
    again = WebhookProvider().send(delivery)  # e.g. a worker died before recording the result
    assert first.delivered and again.provider_message_id == first.provider_message_id
    assert len(receiver.requests) == 1


def test_send_to_a_disabled_endpoint_is_permanent(django_capture_on_commit_callbacks):
    endpoint = EndpointFactory()
    delivery = queued_delivery(endpoint, django_capture_on_commit_callbacks)
    endpoint.enabled = False
    endpoint.disabled_reason = "manual"
    endpoint.save()
    with pytest.raises(PermanentError, match="disabled"):
        WebhookProvider().send(delivery)


def test_retry_without_a_provider_at_hand_still_asks_the_channel(
        settings, django_capture_on_commit_callbacks):
    from notifications.services.deliveries import _fail_or_retry

    settings.DELIVERY_MAX_ATTEMPTS = 1
    delivery = queued_delivery(EndpointFactory(), django_capture_on_commit_callbacks)
    Delivery.objects.filter(pk=delivery.pk).update(status="sending", attempts=1)
    delivery.refresh_from_db()
    before = timezone.now()
    _fail_or_retry(delivery, "HTTP 503", None)  # the call shape of callers that hold no provider
    delivery.refresh_from_db()
    assert delivery.status == "queued"  # the core's limit of 1 attempt does not apply
    assert 4 <= (delivery.next_attempt_at - before).total_seconds() <= 6.5
