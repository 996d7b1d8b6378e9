"""APNs end to end against a local HTTP/2 server over TLS that checks Apple's request."""

from __future__ import annotations

import pytest

from notifications.models import DeliveryStatus, SkipReason
from push.models import Device
from push.services import device_register
from tests.notifications.providers.factories import chat_rule, only_delivery, trigger

TOKENS = ["a1" * 32, "b2" * 32]


def test_each_device_gets_apples_documented_request(ada, apple,
                                                    django_capture_on_commit_callbacks):
    for token in TOKENS:
        device_register(subscriber=ada, kind="apns", token=token)
    chat_rule("push")

    delivery = only_delivery(trigger(django_capture_on_commit_callbacks, to=["ada"]))

    assert apple.problems == []
    assert sorted(token for token, _h, _b in apple.received) == sorted(TOKENS)
    _token, headers, body = apple.received[0]
    assert headers["apns-topic"] == "com.example.shop"
    assert headers["apns-collapse-id"] == delivery.pk.hex
    assert body["aps"]["alert"] == {"title": "Order A-17 shipped",
                                    "body": "Order **A-17** is on its way."}
    assert body["url"] == "https://shop.example.com/orders/A-17"
    assert delivery.status == DeliveryStatus.SENT


@pytest.mark.parametrize("status, reason", [(410, "Unregistered"), (400, "BadDeviceToken")])
def test_a_dead_token_is_removed_after_its_first_failure(ada, apple, status, reason,
                                                         django_capture_on_commit_callbacks):
    device_register(subscriber=ada, kind="apns", token=TOKENS[0], apns_topic="com.example.app")
    apple.replies = [(status, {"reason": reason})]
    chat_rule("push")

    delivery = only_delivery(trigger(django_capture_on_commit_callbacks, to=["ada"]))

    assert (delivery.status, delivery.skip_reason) == (DeliveryStatus.SKIPPED,
                                                       SkipReason.NO_ADDRESS)
    device = Device.objects.get()
    assert device.enabled is False and reason in device.disabled_reason
    assert apple.received[0][1]["apns-topic"] == "com.example.app"  # the device's own topic


def test_too_many_requests_is_retried(ada, apple, django_capture_on_commit_callbacks):
    device_register(subscriber=ada, kind="apns", token=TOKENS[0])
    apple.replies = [(429, {"reason": "TooManyRequests"})]
    chat_rule("push")

    delivery = only_delivery(trigger(django_capture_on_commit_callbacks, to=["ada"]))

    assert delivery.status == DeliveryStatus.QUEUED and "TooManyRequests" in delivery.last_error
    assert Device.objects.get().enabled is True


def test_an_oversize_message_is_refused_before_apple_sees_it(ada, apple,
                                                             django_capture_on_commit_callbacks):
    device_register(subscriber=ada, kind="apns", token=TOKENS[0])
    chat_rule("push", short_body="{{ 'x' * 4100 }}")

    delivery = only_delivery(trigger(django_capture_on_commit_callbacks, to=["ada"]))

    assert delivery.status == DeliveryStatus.FAILED
    assert "for apns, which takes at most 4,096" in delivery.last_error
    assert apple.received == []


def test_badge_sound_and_data_from_the_template_reach_the_app(ada, apple,
                                                              django_capture_on_commit_callbacks):
    device_register(subscriber=ada, kind="apns", token=TOKENS[0])
    chat_rule("push", push_data='{"order_id": "{{ data.order_id }}", "items": 3}',
              push_badge="{{ 2 + 1 }}", push_sound="chime.caf")

    trigger(django_capture_on_commit_callbacks, to=["ada"])

    _token, _headers, body = apple.received[0]
    assert body["aps"]["badge"] == 3 and body["aps"]["sound"] == "chime.caf"
    assert body["order_id"] == "A-17" and body["items"] == "3"
