"""Escalation: an in-app message unread after N minutes goes out by e-mail; reading it first stops that."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from inbox.models import Notification
from inbox.services.notifications import (
    notifications_delete,
    notifications_mark_all_read,
    notifications_mark_read,
)
from notifications.models import Delivery
from notifications.services import sending as sending_service
from notifications.services.events import event_ingest
from notifications.tasks import dispatch_due_deliveries
from tests.factories import EmailTemplateFactory, RuleFactory, SubscriberFactory

pytestmark = pytest.mark.django_db

MINUTES = 30


@pytest.fixture
def clock(monkeypatch):
    """Move ``timezone.now`` forward without sleeping: ``clock.advance(minutes=…)``."""
    class Clock:
        offset = timedelta()

        def advance(self, **delta):
            self.offset += timedelta(**delta)

    clock = Clock()
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + clock.offset)
    return clock


@pytest.fixture
def escalating_rule():
    rule = RuleFactory(channels=["inapp"], escalate_after_minutes=MINUTES, escalate_channel="email")
    EmailTemplateFactory(rule=rule)
    return rule


def trigger(capture, subscriber):
    with capture(execute=True):
        event_ingest(event_type="order.shipped", recipients=[subscriber.external_id],
                     data={"order_id": "A-7"})
    inapp = Delivery.objects.get(channel="inapp")
    return inapp, Delivery.objects.get(channel="email")


def sweep(capture):
    with capture(execute=True):
        dispatch_due_deliveries.delay()


def test_unread_message_is_emailed_after_the_delay_and_linked_to_the_inapp_delivery(
        django_capture_on_commit_callbacks, smtp_server, clock, escalating_rule):
    user = SubscriberFactory()
    started = timezone.now()
    inapp, email = trigger(django_capture_on_commit_callbacks, user)
    assert inapp.status == "delivered" and inapp.inbox_notification.read_at is None
    assert email.parent_id == inapp.pk and email.status == "queued"
    assert email.next_attempt_at - started == pytest.approx(timedelta(minutes=MINUTES),
                                                            abs=timedelta(seconds=5))
    assert list(inapp.children.all()) == [email]

    clock.advance(minutes=MINUTES - 1)
    sweep(django_capture_on_commit_callbacks)
    assert smtp_server.messages == []  # not yet

    clock.advance(minutes=2)
    sweep(django_capture_on_commit_callbacks)
    email.refresh_from_db()
    assert email.status == "sent"
    [message] = smtp_server.messages
    assert message["To"] == user.email and message["Subject"] == "Order A-7 shipped"


def test_reading_first_cancels_the_escalation(django_capture_on_commit_callbacks, smtp_server,
                                              clock, escalating_rule):
    user = SubscriberFactory()
    inapp, email = trigger(django_capture_on_commit_callbacks, user)
    notifications_mark_read(subscriber_id=user.pk, ids=[inapp.inbox_notification.pk])
    email.refresh_from_db()
    assert (email.status, email.skip_reason) == ("skipped", "read")

    clock.advance(minutes=MINUTES + 1)
    sweep(django_capture_on_commit_callbacks)
    email.refresh_from_db()
    assert (email.status, email.skip_reason) == ("skipped", "read")
    assert smtp_server.messages == []


@pytest.mark.parametrize("action", ["mark_all_read", "delete"])
def test_mark_all_read_and_delete_cancel_too(django_capture_on_commit_callbacks, escalating_rule,
                                             action):
    user = SubscriberFactory()
    inapp, email = trigger(django_capture_on_commit_callbacks, user)
    if action == "mark_all_read":
        notifications_mark_all_read(subscriber_id=user.pk)
    else:
        notifications_delete(subscriber_id=user.pk, ids=[inapp.inbox_notification.pk])
    email.refresh_from_db()
    assert (email.status, email.skip_reason) == ("skipped", "read")


def test_reading_another_notification_leaves_the_escalation_pending(
        django_capture_on_commit_callbacks, escalating_rule):
    user = SubscriberFactory()
    other = Notification.objects.create(subscriber=user, title="unrelated")
    _, email = trigger(django_capture_on_commit_callbacks, user)
    notifications_mark_read(subscriber_id=user.pk, ids=[other.pk])
    email.refresh_from_db()
    assert email.status == "queued"


def test_read_while_the_worker_claims_it_is_still_not_sent(
        django_capture_on_commit_callbacks, smtp_server, clock, escalating_rule, monkeypatch):
    """The sweeper queued it and a worker claimed it; the read lands before the provider call."""
    user = SubscriberFactory()
    inapp, email = trigger(django_capture_on_commit_callbacks, user)
    real_claim = sending_service.deliveries_claim
    seen = {}

    def claim_then_read(delivery_ids):
        won = real_claim(delivery_ids)
        notifications_mark_read(subscriber_id=user.pk, ids=[inapp.inbox_notification.pk])
        # The cancelling UPDATE only touches queued rows: this one is already "sending".
        seen["status_after_read"] = Delivery.objects.get(pk=email.pk).status
        return won

    monkeypatch.setattr(sending_service, "deliveries_claim", claim_then_read)
    clock.advance(minutes=MINUTES + 1)
    sweep(django_capture_on_commit_callbacks)
    email.refresh_from_db()
    assert seen["status_after_read"] == "sending"
    assert (email.status, email.skip_reason) == ("skipped", "read")
    assert smtp_server.messages == []


def test_escalation_respects_a_muted_email_preference(django_capture_on_commit_callbacks,
                                                      escalating_rule):
    from inbox.models import Preference

    user = SubscriberFactory()
    Preference.objects.create(subscriber=user, category=escalating_rule.category, channel="email",
                              enabled=False)
    _, email = trigger(django_capture_on_commit_callbacks, user)
    assert (email.status, email.skip_reason) == ("skipped", "preference")


def test_api_delivery_shows_the_chain(django_capture_on_commit_callbacks, api, escalating_rule):
    user = SubscriberFactory()
    with django_capture_on_commit_callbacks(execute=True):
        event, _ = event_ingest(event_type="order.shipped", recipients=[user.external_id],
                                data={"order_id": "A-7"}, application=api.application)
    body = api.get(f"/api/events/{event.pk}").json()
    by_channel = {d["channel"]: d for d in body["deliveries"]}
    assert by_channel["email"]["parent"] == by_channel["inapp"]["id"]
    assert by_channel["inapp"]["children"] == [by_channel["email"]["id"]]
    assert by_channel["inapp"]["parent"] is None


@pytest.mark.parametrize("channels, after, channel, message", [
    (["inapp"], 10, "", "both"),
    (["inapp"], None, "email", "both"),
    (["inapp"], 0, "email", "at least one minute"),
    (["inapp"], 10, "webhook", "reaches the person"),
    (["inapp"], 10, "inapp", "reaches the person"),
    (["email"], 10, "sms", "add the inapp channel"),
    (["inapp", "email"], 10, "email", "already one of the rule's channels"),
])
def test_rule_clean_refuses_inconsistent_escalation(channels, after, channel, message):
    rule = RuleFactory.build(channels=channels, escalate_after_minutes=after,
                             escalate_channel=channel, category=None)
    with pytest.raises(ValidationError, match=message):
        rule.clean()


def test_rule_clean_accepts_a_valid_escalation():
    RuleFactory.build(channels=["inapp"], escalate_after_minutes=15, escalate_channel="sms",
                      category=None).clean()


def test_admin_shows_the_chain(django_capture_on_commit_callbacks, admin_client, escalating_rule):
    inapp, email = trigger(django_capture_on_commit_callbacks, SubscriberFactory())
    child_page = admin_client.get(f"/admin/notifications/delivery/{email.pk}/change/")
    assert f"/admin/notifications/delivery/{inapp.pk}/change/" in child_page.content.decode()
    parent_page = admin_client.get(f"/admin/notifications/delivery/{inapp.pk}/change/")
    assert f"/admin/notifications/delivery/{email.pk}/change/" in parent_page.content.decode()
    event_page = admin_client.get(f"/admin/notifications/event/{inapp.event_id}/change/")
    assert f"in-app {str(inapp.pk)[:8]}" in event_page.content.decode()
