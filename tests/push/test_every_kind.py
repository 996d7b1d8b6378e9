"""One rule, one subscriber with a device of each kind: one delivery reaches all four
services, each stand-in checking its own documented request."""

from __future__ import annotations

from notifications.models import DeliveryStatus
from push.models import DeviceAttempt
from push.services import device_register
from tests.notifications.providers.factories import chat_rule, only_delivery, trigger
from tests.push.standins import WebPushService


def test_one_delivery_reaches_a_browser_an_android_phone_an_iphone_and_an_expo_app(
        ada, expo, firebase, apple, vapid, browser_keys, service,
        django_capture_on_commit_callbacks):
    browsers = WebPushService(keys={"/push/ada": browser_keys})
    push_service = service(browsers)
    browsers.origin = push_service.url
    device_register(subscriber=ada, kind="webpush", token=f"{push_service.url}/push/ada",
                    p256dh=browser_keys.p256dh, auth=browser_keys.auth)
    device_register(subscriber=ada, kind="fcm", token="android-token:APA91b" + "z" * 60)
    device_register(subscriber=ada, kind="apns", token="c3" * 32)
    device_register(subscriber=ada, kind="expo", token="ExponentPushToken[expoexpoexpo01]")
    chat_rule("push")

    delivery = only_delivery(trigger(django_capture_on_commit_callbacks, to=["ada"]))

    assert delivery.status == DeliveryStatus.SENT
    assert browsers.problems == [] and firebase.problems == [] and apple.problems == []
    assert [document["title"] for _p, document, _h, _k in browsers.received] == [
        "Order A-17 shipped"]
    assert [m["notification"]["title"] for m in firebase.messages] == ["Order A-17 shipped"]
    assert [body["aps"]["alert"]["title"] for _t, _h, body in apple.received] == [
        "Order A-17 shipped"]
    assert [m["title"] for _h, ms in expo.requests for m in ms] == ["Order A-17 shipped"]
    assert sorted(DeviceAttempt.objects.values_list("device__kind", "outcome")) == [
        ("apns", "sent"), ("expo", "sent"), ("fcm", "sent"), ("webpush", "sent")]
