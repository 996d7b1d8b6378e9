"""The admin's channel page (status and test messages) and the relay channel admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from notifications.models import Delivery, GroupTarget, RelayChannel
from notifications.services.channel_tests import TEST_EVENT_TYPE
from tests.factories import RecipientGroupFactory
from tests.notifications.providers.fake_service import Reply
from tests.notifications.providers.homeserver import Homeserver

pytestmark = pytest.mark.django_db

PAGE = "admin:notifications_channeladminpage_changelist"
ROOM = "!ops:hs.test"
TOKEN = "T0k3nInTheWebhookUrl"


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    for name in ("MATRIX_HOMESERVER", "MATRIX_ACCESS_TOKEN", "TWILIO_ACCOUNT_SID",
                 "TWILIO_AUTH_TOKEN", "MATTERMOST_URL", "MATTERMOST_BOT_TOKEN"):
        setattr(settings, name, "")


@pytest.fixture
def homeserver(service, settings) -> Homeserver:
    hs = Homeserver()
    hs.add_room(ROOM)
    hs.server = service(hs)
    settings.MATRIX_HOMESERVER = hs.server.url
    settings.MATRIX_ACCESS_TOKEN = hs.token
    return hs


def test_page_says_what_each_unconfigured_channel_needs(admin_client):
    page = admin_client.get(reverse(PAGE)).content.decode()

    assert "Not configured: Set MATRIX_HOMESERVER and MATRIX_ACCESS_TOKEN." in page
    assert ("Set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER or "
            "TWILIO_MESSAGING_SERVICE_SID.") in page
    assert page.count("Send test message") == 7  # e-mail, SMS and the five chat channels


def test_page_is_on_the_admin_index(admin_client):
    assert reverse(PAGE) in admin_client.get(reverse("admin:index")).content.decode()


def test_test_message_is_sent_through_the_real_provider_and_the_outcome_shown(
        admin_client, homeserver):
    response = admin_client.post(reverse(PAGE), {
        "channel": "matrix", "matrix-known": "", "matrix-address": ROOM,
        "matrix-message": "Hello from the admin"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Sent" in page and "$event1" in page
    [message] = homeserver.rooms[ROOM]
    assert message["body"] == "Clarion test message\n\nHello from the admin"
    delivery = Delivery.objects.get()
    assert delivery.event.event_type == TEST_EVENT_TYPE
    assert reverse("admin:notifications_delivery_change", args=[delivery.pk]) in page


def test_failure_shows_the_providers_error(admin_client, homeserver):
    homeserver.next_sends = [Reply(401, {"errcode": "M_UNKNOWN_TOKEN", "error": "Token gone"})]

    page = admin_client.post(reverse(PAGE), {
        "channel": "matrix", "matrix-address": ROOM, "matrix-message": "hi"}).content.decode()

    assert "Not sent" in page
    assert "rejected the access token (M_UNKNOWN_TOKEN: Token gone)" in page


def test_unconfigured_channel_test_reports_not_configured(admin_client):
    page = admin_client.post(reverse(PAGE), {
        "channel": "matrix", "matrix-address": ROOM, "matrix-message": "hi"}).content.decode()

    assert "Not sent" in page and "Channel not configured" in page


def test_invalid_target_is_a_form_error(admin_client, homeserver):
    page = admin_client.post(reverse(PAGE), {
        "channel": "matrix", "matrix-address": "not-a-room",
        "matrix-message": "hi"}).content.decode()

    assert "Not a valid matrix address" in page
    assert Delivery.objects.count() == 0


def test_configured_targets_are_offered_masked(admin_client):
    group = RecipientGroupFactory(name="#chat")
    GroupTarget.objects.create(group=group, channel="slack",
                               address=f"https://hooks.slack.com/services/T/B/{TOKEN}")

    page = admin_client.get(reverse(PAGE)).content.decode()

    assert "#chat" in page and "hooks.slack.com/••••••••" in page
    assert TOKEN not in page


def test_staff_without_the_permission_cannot_send(client):
    user = User.objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(user)
    assert client.get(reverse(PAGE)).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="send_test_message"))
    assert client.get(reverse(PAGE)).status_code == 200


def test_relay_channel_admin_stores_a_webhook_encrypted_and_shows_how_to_call(admin_client):
    response = admin_client.post(reverse("admin:notifications_relaychannel_add"), {
        "name": "deploys", "description": "", "enabled": "on", "channel": "slack",
        "address": f"https://hooks.slack.com/services/T/B/{TOKEN}", "group": ""})

    assert response.status_code == 302, response.content.decode()[:3000]
    relay = RelayChannel.objects.get()
    assert TOKEN not in relay.address
    page = admin_client.get(reverse("admin:notifications_relaychannel_change",
                                    args=[relay.pk])).content.decode()
    assert TOKEN not in page
    assert "/post/channel/deploys/msg/Build%20done" in page and "relay:post" in page


def test_relay_channel_needs_exactly_one_kind_of_target(admin_client):
    group = RecipientGroupFactory(name="#ops")
    page = admin_client.post(reverse("admin:notifications_relaychannel_add"), {
        "name": "both", "enabled": "on", "channel": "matrix", "address": ROOM,
        "group": group.pk}).content.decode()
    assert "not both" in page
    assert RelayChannel.objects.count() == 0


def test_the_page_covers_email_in_app_and_webhooks(admin_client, settings, tmp_path):
    from django.core import mail

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    page = admin_client.get(reverse(PAGE)).content.decode()
    assert 'id="channel-email"' in page and "In-app." in page and "Webhooks." in page

    response = admin_client.post(reverse(PAGE), {
        "channel": "email", "email-address": "ops@example.com",
        "email-message": "Does mail work?"})
    assert response.status_code == 200
    assert "Sent" in response.content.decode()
    [message] = mail.outbox
    assert message.to == ["ops@example.com"] and "Does mail work?" in message.body


def test_the_page_shows_a_channels_recent_failure_in_its_own_words(admin_client):
    from django.utils import timezone

    from notifications.models import DeliveryAttempt
    from tests.notifications.providers.factories import pending_delivery

    delivery = pending_delivery("email", "a@example.com")
    DeliveryAttempt.objects.create(
        delivery=delivery, number=1, started_at=timezone.now(),
        outcome=DeliveryAttempt.Outcome.TRANSIENT,
        error="The SMTP server rejected the login (535 5.7.8 Error: authentication failed); "
              "check the user and password in EMAIL_URL.")
    page = admin_client.get(reverse(PAGE)).content.decode()
    assert "Failing in the last hour" in page and "check the user and password" in page
