"""Web Push end to end: a rule's push reaches a browser subscription through a local push
service that checks the VAPID signature and decrypts the body with the browser's keys."""

from __future__ import annotations

import pytest

from notifications.models import DeliveryStatus, SkipReason
from push.models import Device, DeviceAttempt
from push.services import device_register
from tests.factories import SubscriberFactory
from tests.notifications.providers.factories import chat_rule, only_delivery, trigger
from tests.notifications.providers.fake_service import Reply
from tests.push.standins import WebPushService


@pytest.fixture
def push_service(service, browser_keys):
    standin = WebPushService(keys={"/push/ada-firefox": browser_keys})
    server = service(standin)
    standin.origin = server.url
    return standin, server


@pytest.fixture
def ada_with_browser(db, push_service, browser_keys):
    _standin, server = push_service
    ada = SubscriberFactory(external_id="ada")
    device, _ = device_register(subscriber=ada, kind="webpush",
                                token=f"{server.url}/push/ada-firefox",
                                p256dh=browser_keys.p256dh, auth=browser_keys.auth,
                                label="Firefox on Linux")
    return ada, device


def test_the_push_decrypts_to_the_rendered_words_with_a_valid_vapid_signature(
        vapid, push_service, ada_with_browser, django_capture_on_commit_callbacks):
    standin, _ = push_service
    chat_rule("push")

    event = trigger(django_capture_on_commit_callbacks, to=["ada"])

    assert standin.problems == []
    [(path, document, headers, vapid_key)] = standin.received
    assert path == "/push/ada-firefox"
    assert document["title"] == "Order A-17 shipped"
    assert document["body"] == "Order **A-17** is on its way."
    assert document["url"] == "https://shop.example.com/orders/A-17"
    delivery = only_delivery(event)
    assert document["data"] == {"delivery_id": str(delivery.pk), "event_type": "order.shipped",
                                "read_token": document["data"]["read_token"]}
    from push.senders.webpush import public_key

    assert vapid_key == public_key()  # the key browsers subscribed with
    assert delivery.status == DeliveryStatus.SENT
    assert DeviceAttempt.objects.get().outcome == "sent"
    _ada, device = ada_with_browser
    device.refresh_from_db()
    assert device.last_success_at is not None


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_removes_the_device_and_the_delivery_is_skipped(
        vapid, push_service, ada_with_browser, django_capture_on_commit_callbacks, status):
    standin, _ = push_service
    standin.replies = [Reply(status)]
    chat_rule("push")

    delivery = only_delivery(trigger(django_capture_on_commit_callbacks, to=["ada"]))

    assert (delivery.status, delivery.skip_reason) == (DeliveryStatus.SKIPPED,
                                                       SkipReason.NO_ADDRESS)
    device = Device.objects.get()
    assert device.enabled is False and f"gone ({status})" in device.disabled_reason
    # Never tried again: the next event finds no device.
    later = only_delivery(trigger(django_capture_on_commit_callbacks, to=["ada"],
                                  data={"order_id": "A-18"}))
    assert later.skip_reason == SkipReason.NO_ADDRESS
    assert len(standin.received) == 1


def test_a_rate_limit_is_retried_after_the_services_retry_after(
        vapid, push_service, ada_with_browser, django_capture_on_commit_callbacks):
    standin, _ = push_service
    standin.replies = [Reply(429, b"slow down", {"Retry-After": "120"})]
    chat_rule("push")

    delivery = only_delivery(trigger(django_capture_on_commit_callbacks, to=["ada"]))

    assert delivery.status == DeliveryStatus.QUEUED
    wait = (delivery.next_attempt_at - delivery.updated_at).total_seconds()
    assert 119 <= wait <= 150
    assert "429" in delivery.last_error


def test_a_message_too_large_for_web_push_fails_before_anything_is_sent(
        vapid, push_service, ada_with_browser, django_capture_on_commit_callbacks):
    standin, _ = push_service
    chat_rule("push", short_body="{{ 'x' * 5000 }}")

    delivery = only_delivery(trigger(django_capture_on_commit_callbacks, to=["ada"]))

    assert delivery.status == DeliveryStatus.FAILED
    assert "for webpush, which takes at most 3,993" in delivery.last_error
    assert standin.received == []


def test_without_vapid_keys_browsers_are_not_configured(
        push_service, ada_with_browser, django_capture_on_commit_callbacks, settings):
    settings.EXPO_ENABLED = True  # the channel is on, but not for browsers
    chat_rule("push")

    delivery = only_delivery(trigger(django_capture_on_commit_callbacks, to=["ada"]))

    assert (delivery.status, delivery.skip_reason) == (DeliveryStatus.SKIPPED,
                                                       SkipReason.NOT_CONFIGURED)
    assert "Web Push (browser) is not configured" in delivery.last_error
