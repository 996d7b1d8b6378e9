"""Credential-bearing targets: encrypted at rest, masked wherever they are shown."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from notifications.models import Delivery, Event, GroupTarget, Subscriber, TargetSecret
from notifications.targets import reference_digest, target_reveal
from tests.factories import RecipientGroupFactory, SubscriberFactory
from tests.notifications.providers.factories import chat_rule, only_delivery, trigger
from tests.notifications.providers.fake_service import Reply, scripted

pytestmark = pytest.mark.django_db

TOKEN = "QmFzZTY0U2VjcmV0VG9rZW4"
SLACK_URL = f"https://hooks.slack.com/services/T0001/B0002/{TOKEN}"


def raw(sql: str, *params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_group_target_url_is_encrypted_at_rest_and_only_its_reference_is_kept():
    group = RecipientGroupFactory()
    target = GroupTarget.objects.create(group=group, channel="slack", address=SLACK_URL)

    [(address,)] = raw("SELECT address FROM notifications_grouptarget WHERE id = %s", target.pk)
    [(stored,)] = raw("SELECT value FROM notifications_targetsecret")
    assert TOKEN not in address
    assert address.startswith("https://hooks.slack.com/••••••••") and "[ref:" in address
    assert stored.startswith("enc1:") and TOKEN not in stored
    assert target_reveal(channel="slack", address=address) == SLACK_URL


def test_bulk_created_targets_are_protected_too():
    group = RecipientGroupFactory()
    GroupTarget.objects.bulk_create([GroupTarget(group=group, channel="teams",
                                                 address=f"https://flow.example.com/x?sig={TOKEN}")])
    [(address,)] = raw("SELECT address FROM notifications_grouptarget")
    assert TOKEN not in address


def test_same_url_twice_in_a_group_is_still_a_duplicate():
    group = RecipientGroupFactory()
    GroupTarget.objects.create(group=group, channel="slack", address=SLACK_URL)
    duplicate = GroupTarget(group=group, channel="slack", address=SLACK_URL)
    with pytest.raises(ValidationError, match="already exists"):
        duplicate.full_clean()
    assert TargetSecret.objects.count() == 1


def test_rooms_channel_ids_and_phone_numbers_are_not_secrets():
    group = RecipientGroupFactory()
    for channel, address in [("matrix", "#ops:hs.test"), ("sms", "+14155550100"),
                             ("mattermost", "4xp9fdt77pncbef59f4k1qe83o")]:
        target = GroupTarget.objects.create(group=group, channel=channel, address=address)
        assert target.address == address
    assert TargetSecret.objects.count() == 0


def test_subscriber_webhook_address_is_protected_and_reaches_the_real_url(
        service, allow_loopback, django_capture_on_commit_callbacks):
    slack = service(scripted(Reply(200, b"ok")))
    url = f"{slack.url}/services/T1/B1/{TOKEN}"
    user = SubscriberFactory(channel_addresses={"slack": url})
    chat_rule("slack")

    event = trigger(django_capture_on_commit_callbacks, to=[user.external_id])

    [(addresses,)] = raw("SELECT channel_addresses FROM notifications_subscriber WHERE id = %s",
                         user.pk)
    assert TOKEN not in str(addresses)
    delivery = only_delivery(event)
    assert TOKEN not in delivery.address and delivery.status == "sent"
    assert slack.requests[0].path == f"/services/T1/B1/{TOKEN}"


def test_inline_target_in_an_event_keeps_only_the_reference(
        service, allow_loopback, django_capture_on_commit_callbacks, api):
    slack = service(scripted(Reply(200, b"ok")))
    url = f"{slack.url}/services/T1/B1/{TOKEN}"
    chat_rule("slack")

    event = trigger(django_capture_on_commit_callbacks, to=[{"channel": "slack", "address": url}])

    Event.objects.filter(pk=event.pk).update(application=api.application)
    for table in ("notifications_event", "notifications_delivery"):
        assert TOKEN not in str(raw(f"SELECT * FROM {table}"))  # noqa: S608 — fixed names
    detail = api.get(f"/api/events/{event.pk}").content.decode()
    assert TOKEN not in detail and "[ref:" in detail
    assert len(slack.requests) == 1


def test_api_shows_group_targets_masked_and_accepts_them_back(api):
    created = api.post("/api/groups", {"name": "#chat", "targets": [
        {"channel": "slack", "address": SLACK_URL}]}, format="json")

    assert created.status_code == 201, created.content
    shown = created.json()["targets"][0]["address"]
    assert TOKEN not in created.content.decode() and reference_digest(shown)
    again = api.put("/api/groups/chat", {"name": "#chat", "targets": [
        {"channel": "slack", "address": shown, "label": "alerts"}]}, format="json")
    assert again.status_code == 200, again.content
    assert target_reveal(channel="slack", address=GroupTarget.objects.get().address) == SLACK_URL


def test_unknown_reference_is_refused():
    with pytest.raises(ValidationError, match="reference is unknown"):
        GroupTarget(group=RecipientGroupFactory(), channel="slack",
                    address="https://hooks.slack.com/••••••••abcd [ref:0123456789abcdef01234567]"
                    ).full_clean()


def test_admin_pages_show_the_target_masked(admin_client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    group = RecipientGroupFactory()
    GroupTarget.objects.create(group=group, channel="slack", address=SLACK_URL)
    user = SubscriberFactory(channel_addresses={"teams": f"https://flow.example.com/?sig={TOKEN}"})

    for url in (reverse("admin:notifications_recipientgroup_change", args=[group.pk]),
                reverse("admin:notifications_subscriber_change", args=[user.pk])):
        page = admin_client.get(url).content.decode()
        assert TOKEN not in page and "••••••••" in page


def test_admin_form_stores_a_pasted_url_encrypted(admin_client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    group = RecipientGroupFactory(name="#ops")
    response = admin_client.post(
        reverse("admin:notifications_recipientgroup_change", args=[group.pk]),
        {"name": "#ops", "description": "", "targets-TOTAL_FORMS": "1",
         "targets-INITIAL_FORMS": "0", "targets-MIN_NUM_FORMS": "0",
         "targets-MAX_NUM_FORMS": "1000", "targets-0-channel": "slack",
         "targets-0-address": SLACK_URL, "targets-0-label": "alerts",
         "targets-0-group": group.pk})

    assert response.status_code == 302, response.content.decode()[:2000]
    target = GroupTarget.objects.get(group=group)
    assert TOKEN not in target.address
    assert Subscriber.objects.count() == 0 and Delivery.objects.count() == 0
