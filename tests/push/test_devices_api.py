"""Registering devices: integrators with an API key, a person's page with an inbox token."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from inbox.services.tokens import inbox_token_mint
from push.models import Device
from tests.factories import ApplicationFactory, SubscriberFactory, make_api_key

FCM_TOKEN = "fGx1Zk3nQ0e5:APA91bH" + "x" * 120
APNS_TOKEN = "ab" * 32
EXPO_TOKEN = "ExponentPushToken[xxxxxxxxxxxxxxxxxxxxxx]"


@pytest.fixture
def ada(db):
    return SubscriberFactory(external_id="ada")


def devices_url(external_id: str = "ada") -> str:
    return f"/api/subscribers/{external_id}/devices"


def webpush_body(browser_keys, endpoint="http://127.0.0.1:9/push/abc") -> dict:
    return {"kind": "webpush", "subscription": {
        "endpoint": endpoint, "expirationTime": None,
        "keys": {"p256dh": browser_keys.p256dh, "auth": browser_keys.auth}}}


def test_devices_are_added_idempotently_listed_masked_and_removed(api, ada):
    first = api.post(devices_url(), {"kind": "fcm", "token": FCM_TOKEN, "label": "Pixel 8"},
                     format="json")
    again = api.post(devices_url(), {"kind": "fcm", "token": FCM_TOKEN}, format="json")

    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert again.json()["label"] == "Pixel 8"  # kept when not given again
    listed = api.get(devices_url()).json()
    assert [d["kind"] for d in listed] == ["fcm"]
    assert FCM_TOKEN not in str(listed) and listed[0]["token"].startswith(FCM_TOKEN[:6])

    removed = api.delete(f"{devices_url()}/{first.json()['id']}")
    assert removed.status_code == 204 and not Device.objects.exists()
    assert api.delete(f"{devices_url()}/{first.json()['id']}").status_code == 404


def test_every_kind_is_accepted_in_its_own_format(api, ada, browser_keys):
    bodies = [{"kind": "fcm", "token": FCM_TOKEN},
              {"kind": "apns", "token": APNS_TOKEN.upper(), "apns_topic": "com.example.app",
               "apns_environment": "sandbox"},
              {"kind": "expo", "token": EXPO_TOKEN},
              webpush_body(browser_keys)]
    for body in bodies:
        response = api.post(devices_url(), body, format="json")
        assert response.status_code == 201, response.content
    assert Device.objects.get(kind="apns").token == APNS_TOKEN  # normalised to lower case
    assert Device.objects.get(kind="webpush").p256dh == browser_keys.p256dh


@pytest.mark.parametrize("body, field", [
    ({"kind": "fcm", "token": "short"}, "token"),
    ({"kind": "fcm", "token": "has spaces " * 5}, "token"),
    ({"kind": "apns", "token": "zz" * 32}, "token"),
    ({"kind": "apns", "token": "ab" * 10}, "token"),
    ({"kind": "apns", "token": "ab" * 32, "apns_topic": "not a bundle"}, "apns_topic"),
    ({"kind": "expo", "token": "ExpoToken[abc]"}, "token"),
    ({"kind": "pager", "token": "x" * 30}, "kind"),
    ({"kind": "fcm"}, "token"),
    ({"kind": "fcm", "token": FCM_TOKEN, "p256dh": "abc"}, "p256dh"),
    ({"kind": "webpush", "token": "http://127.0.0.1:9/push", "p256dh": "AAAA", "auth": "AAAA"},
     "p256dh"),
    ({"kind": "fcm", "token": FCM_TOKEN, "colour": "blue"}, "colour"),
])
def test_malformed_devices_are_400_naming_the_field(api, ada, body, field):
    response = api.post(devices_url(), body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not Device.objects.exists()


@pytest.mark.parametrize("endpoint", ["http://10.0.0.7/push/1", "http://169.254.169.254/push",
                                      "ftp://push.example.com/x"])
def test_a_browser_endpoint_goes_through_the_address_policy(api, ada, browser_keys, settings,
                                                            endpoint):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    response = api.post(devices_url(), webpush_body(browser_keys, endpoint), format="json")
    assert response.status_code == 400
    assert "token" in response.json()


def test_an_endpoint_must_be_https_unless_the_operator_says_otherwise(api, ada, browser_keys,
                                                                      settings):
    settings.WEBPUSH_REQUIRE_HTTPS = True
    response = api.post(devices_url(), webpush_body(browser_keys), format="json")
    assert response.status_code == 400
    assert response.json()["token"] == ["A Web Push endpoint is an https:// URL."]


def test_another_applications_keys_do_not_reach_the_subscriber(ada):
    _key, secret = make_api_key(application=ApplicationFactory(name="elsewhere", directory_id=None))
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert other.get(devices_url()).status_code == 404
    assert other.post(devices_url(), {"kind": "fcm", "token": FCM_TOKEN},
                      format="json").status_code == 404


def test_a_token_registered_again_moves_to_the_new_subscriber(api, ada):
    grace = SubscriberFactory(external_id="grace")
    api.post(devices_url("ada"), {"kind": "expo", "token": EXPO_TOKEN}, format="json")
    api.post(devices_url("grace"), {"kind": "expo", "token": EXPO_TOKEN}, format="json")
    assert Device.objects.get().subscriber == grace


def test_a_persons_page_registers_and_removes_its_own_browser(ada, browser_keys):
    page = APIClient()
    page.credentials(HTTP_AUTHORIZATION=f"Bearer {inbox_token_mint(subscriber=ada).token}")

    added = page.post("/api/notifications/devices", webpush_body(browser_keys), format="json")
    assert added.status_code == 201, added.content
    assert [d["kind"] for d in page.get("/api/notifications/devices").json()] == ["webpush"]

    gone = page.delete("/api/notifications/devices",
                       {"endpoint": "http://127.0.0.1:9/push/abc"}, format="json")
    assert gone.status_code == 204 and not Device.objects.exists()


def test_the_vapid_public_key_is_served_for_browsers(client, vapid):
    from cryptography.hazmat.primitives import serialization

    from tests.push.conftest import b64url

    answer = client.get("/api/notifications/push-key").json()
    assert answer == {"enabled": True, "vapid_public_key": b64url(vapid.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))}


def test_without_vapid_keys_the_page_is_told_browser_push_is_off(client, db):
    assert client.get("/api/notifications/push-key").json() == {
        "enabled": False, "vapid_public_key": None}
