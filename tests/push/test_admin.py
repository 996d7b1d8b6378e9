"""Devices in the admin: masked tokens, last success and error, on the subscriber's page,
and the push services' state on the Channels page."""

from __future__ import annotations

from django.urls import reverse

from push.services import device_register
from tests.factories import SubscriberFactory

TOKEN = "ExponentPushToken[secretsecretsecret42]"


def test_a_subscribers_page_lists_devices_with_tokens_masked(admin_client, db):
    ada = SubscriberFactory(external_id="ada")
    device, _ = device_register(subscriber=ada, kind="expo", token=TOKEN, label="Ada's phone")
    device.last_error = "Expo answered 503"
    device.save()

    page = admin_client.get(reverse("admin:notifications_subscriber_change", args=[ada.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Ada&#x27;s phone" in html and "Expo answered 503" in html
    assert TOKEN not in html and device.masked_token in html

    listed = admin_client.get(reverse("admin:push_device_changelist")).content.decode()
    assert TOKEN not in listed and device.masked_token in listed
    detail = admin_client.get(reverse("admin:push_device_change", args=[device.pk]))
    assert detail.status_code == 200 and TOKEN not in detail.content.decode()


def test_the_channels_page_says_which_push_services_are_configured(admin_client, vapid):
    html = admin_client.get(reverse("admin:notifications_channeladminpage_changelist")).content.decode()
    assert "Web Push (browser): configured" in html
    assert "Firebase Cloud Messaging: not configured" in html
    assert "docs/push.md" in html
