"""APNs end to end against a local HTTP/2 server over TLS that checks Apple's request."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from notifications.models import DeliveryStatus, SkipReason
from push.models import Device
from push.senders import apns
from push.services import device_register
from tests.factories import SubscriberFactory
from tests.notifications.providers.factories import chat_rule, only_delivery, trigger
from tests.push.apns_standin import Apns, ApnsServer, self_signed_localhost

TOKENS = ["a1" * 32, "b2" * 32]


@pytest.fixture
def apple(settings, tmp_path, monkeypatch):
    """A .p8 key as Apple issues it (PKCS#8 P-256), set as the operator would, and the
    local APNs trusted through SSL_CERT_FILE."""
    key = ec.generate_private_key(ec.SECP256R1())
    p8 = tmp_path / "AuthKey_ABC123DEFG.p8"
    p8.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))
    standin = Apns(public_key=key.public_key(), key_id="ABC123DEFG", team_id="TEAM123456")
    cert, cert_key = self_signed_localhost(tmp_path)
    server = ApnsServer(standin, cert, cert_key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    settings.APNS_KEY_FILE, settings.APNS_KEY_ID = str(p8), "ABC123DEFG"
    settings.APNS_TEAM_ID, settings.APNS_TOPIC = "TEAM123456", "com.example.shop"
    settings.APNS_BASE_URL = settings.APNS_SANDBOX_BASE_URL = server.url
    apns.forget_token()
    yield standin
    server.stop()
    apns.forget_token()


@pytest.fixture
def ada(db):
    return SubscriberFactory(external_id="ada")


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
