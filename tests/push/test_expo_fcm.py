"""Expo and FCM end to end, against stand-ins that check the documented requests."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from notifications.models import DeliveryStatus, SkipReason
from push.models import Device, DeviceAttempt
from push.senders import fcm
from push.services import device_register
from tests.notifications.providers.factories import chat_rule, only_delivery, trigger
from tests.push.standins import fcm_error

EXPO_TOKENS = [f"ExponentPushToken[device{n:014d}]" for n in range(3)]
FCM_TOKENS = [f"fcm-token-{n}:APA91b" + "y" * 60 for n in range(2)]


def test_expo_gets_one_request_for_all_devices_and_a_dead_one_is_removed(
        ada, expo, django_capture_on_commit_callbacks):
    for token in EXPO_TOKENS:
        device_register(subscriber=ada, kind="expo", token=token)
    expo.tickets = [[{"status": "ok", "id": "t-0"},
                     {"status": "error", "message": '"…" is not a registered push token',
                      "details": {"error": "DeviceNotRegistered"}},
                     {"status": "ok", "id": "t-2"}]]
    chat_rule("push")

    delivery = only_delivery(trigger(django_capture_on_commit_callbacks, to=["ada"]))

    [(headers, messages)] = expo.requests
    assert headers["Authorization"] == "Bearer expo-access-token"
    assert [m["to"] for m in messages] == sorted(EXPO_TOKENS)
    assert messages[0]["title"] == "Order A-17 shipped"
    assert messages[0]["data"]["url"] == "https://shop.example.com/orders/A-17"
    assert delivery.status == DeliveryStatus.SENT
    dead = Device.objects.get(token=EXPO_TOKENS[1])
    assert dead.enabled is False and "DeviceNotRegistered" in dead.disabled_reason
    assert Device.objects.filter(enabled=True).count() == 2


def test_expo_rate_limit_retries_only_the_devices_still_waiting(
        ada, expo, django_capture_on_commit_callbacks):
    from notifications.services.sweeper import sweep

    for token in EXPO_TOKENS[:2]:
        device_register(subscriber=ada, kind="expo", token=token)
    expo.tickets = [[{"status": "ok", "id": "t-0"},
                     {"status": "error", "message": "slow down",
                      "details": {"error": "MessageRateExceeded"}}]]
    chat_rule("push")

    delivery = only_delivery(trigger(django_capture_on_commit_callbacks, to=["ada"]))
    assert delivery.status == DeliveryStatus.QUEUED
    with django_capture_on_commit_callbacks(execute=True):
        sweep()  # the retry is due at once (DELIVERY_RETRY_BASE_SECONDS = 0)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 2
    # The device that had the message is not pushed to twice.
    assert [[m["to"] for m in messages] for _h, messages in expo.requests] == [
        sorted(EXPO_TOKENS[:2]), [sorted(EXPO_TOKENS[:2])[1]]]
    assert DeviceAttempt.objects.filter(outcome="sent").count() == 2


def test_fcm_signs_in_with_the_service_account_and_sends_each_device(
        ada, firebase, django_capture_on_commit_callbacks):
    for token in FCM_TOKENS:
        device_register(subscriber=ada, kind="fcm", token=token)
    chat_rule("push")

    delivery = only_delivery(trigger(django_capture_on_commit_callbacks, to=["ada"]))

    assert firebase.problems == []
    assert firebase.tokens_issued == ["ya29.test-0"]  # one sign-in for both messages
    assert sorted(m["token"] for m in firebase.messages) == sorted(FCM_TOKENS)
    message = firebase.messages[0]
    assert message["notification"] == {"title": "Order A-17 shipped",
                                       "body": "Order **A-17** is on its way."}
    assert message["data"]["url"] == "https://shop.example.com/orders/A-17"
    assert message["webpush"]["fcm_options"]["link"] == "https://shop.example.com/orders/A-17"
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.provider_message_id.startswith("projects/demo-project/messages/")


def test_fcm_unregistered_removes_the_device(ada, firebase, django_capture_on_commit_callbacks):
    device_register(subscriber=ada, kind="fcm", token=FCM_TOKENS[0])
    firebase.replies = [fcm_error(404, "UNREGISTERED", "Requested entity was not found.")]
    chat_rule("push")

    delivery = only_delivery(trigger(django_capture_on_commit_callbacks, to=["ada"]))

    assert (delivery.status, delivery.skip_reason) == (DeliveryStatus.SKIPPED,
                                                       SkipReason.NO_ADDRESS)
    assert Device.objects.get().enabled is False


@pytest.mark.parametrize("reply, wait", [
    (fcm_error(429, "QUOTA_EXCEEDED", headers={"Retry-After": "300"}), 300),
    (fcm_error(503, "UNAVAILABLE"), None),
])
def test_fcm_quota_and_unavailable_are_retried(ada, firebase, django_capture_on_commit_callbacks,
                                               reply, wait):
    device_register(subscriber=ada, kind="fcm", token=FCM_TOKENS[0])
    firebase.replies = [reply]
    chat_rule("push")

    delivery = only_delivery(trigger(django_capture_on_commit_callbacks, to=["ada"]))

    assert delivery.status == DeliveryStatus.QUEUED
    assert reply.body["error"]["details"][0]["errorCode"] in delivery.last_error
    if wait:
        assert (delivery.next_attempt_at - delivery.updated_at).total_seconds() >= wait - 1
    assert Device.objects.get().enabled is True


def test_fcm_credentials_it_does_not_know_are_retried_and_named(
        ada, firebase, django_capture_on_commit_callbacks, tmp_path, settings):
    device_register(subscriber=ada, kind="fcm", token=FCM_TOKENS[0])
    account = json.loads(open(settings.FCM_SERVICE_ACCOUNT_FILE).read())
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    account["private_key"] = other.private_bytes(serialization.Encoding.PEM,
                                                 serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()).decode()
    (tmp_path / "wrong.json").write_text(json.dumps(account))
    settings.FCM_SERVICE_ACCOUNT_FILE = str(tmp_path / "wrong.json")
    fcm.forget_credentials()
    chat_rule("push")

    delivery = only_delivery(trigger(django_capture_on_commit_callbacks, to=["ada"]))

    assert delivery.status == DeliveryStatus.QUEUED
    assert "FCM_SERVICE_ACCOUNT_FILE" in delivery.last_error
    assert firebase.messages == [] and "Signature verification failed" in firebase.problems[0]


def test_fcm_carries_the_templates_data_badge_and_sound(ada, firebase,
                                                        django_capture_on_commit_callbacks):
    device_register(subscriber=ada, kind="fcm", token=FCM_TOKENS[0])
    chat_rule("push", push_data='{"order_id": "{{ data.order_id }}"}', push_badge="4",
              push_sound="default")

    trigger(django_capture_on_commit_callbacks, to=["ada"])

    [message] = firebase.messages
    assert message["data"]["order_id"] == "A-17"
    assert message["android"]["notification"] == {"sound": "default"}
    assert message["apns"] == {"payload": {"aps": {"badge": 4, "sound": "default"}}}


@pytest.mark.parametrize("fields, said", [
    ({"push_data": "[1, 2]"}, "data must render to a JSON object"),
    ({"push_data": "{not json"}, "data is not JSON once rendered"),
    ({"push_badge": "many"}, "badge must render to a whole number"),
])
def test_push_fields_that_render_to_nonsense_fail_with_the_field_named(
        ada, expo, django_capture_on_commit_callbacks, fields, said):
    device_register(subscriber=ada, kind="expo", token=EXPO_TOKENS[0])
    chat_rule("push", **fields)

    delivery = only_delivery(trigger(django_capture_on_commit_callbacks, to=["ada"]))

    assert delivery.status == DeliveryStatus.FAILED and said in delivery.last_error
    assert expo.requests == []


def test_expos_words_never_carry_the_token_into_errors(ada, expo,
                                                      django_capture_on_commit_callbacks):
    device_register(subscriber=ada, kind="expo", token=EXPO_TOKENS[0])
    expo.tickets = [[{"status": "error", "details": {"error": "DeviceNotRegistered"},
                      "message": f'"{EXPO_TOKENS[0]}" is not a registered push token'}]]
    chat_rule("push")

    delivery = only_delivery(trigger(django_capture_on_commit_callbacks, to=["ada"]))

    device = Device.objects.get()
    for text in (delivery.last_error, device.disabled_reason, device.last_error,
                 DeviceAttempt.objects.get().error):
        assert EXPO_TOKENS[0] not in text and device.masked_token in text
