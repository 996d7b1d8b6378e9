"""Push in the pipeline like every channel: preferences, quiet hours, critical categories,
broadcasts through the set-based fan-out, and a subscriber without devices."""

from __future__ import annotations

from datetime import time

from inbox.models import Preference, QuietHours
from notifications.models import Delivery, DeliveryStatus, RecipientGroup, SkipReason
from notifications.services.events import event_ingest
from push.services import device_register
from tests.factories import CategoryFactory, RuleFactory, SubscriberFactory
from tests.notifications.providers.factories import ChatTemplateFactory


def push_rule(**kwargs):
    rule = RuleFactory(event_type="order.shipped", channels=["push"], **kwargs)
    ChatTemplateFactory(rule=rule, channel="push")
    return rule


def trigger(capture, to):
    with capture(execute=True):
        event, _ = event_ingest(event_type="order.shipped", recipients=to,
                                data={"order_id": "A-17"})
    return list(Delivery.objects.filter(event=event).order_by("address"))


def with_phone(external_id: str, n: int = 0):
    person = SubscriberFactory(external_id=external_id)
    device_register(subscriber=person, kind="expo", token=f"ExponentPushToken[{external_id}{n:012d}]")
    return person


def test_a_subscriber_without_devices_is_skipped_with_no_address(
        db, expo, django_capture_on_commit_callbacks):
    SubscriberFactory(external_id="ada")
    push_rule(audience="recipients")

    [delivery] = trigger(django_capture_on_commit_callbacks, ["ada"])

    assert (delivery.status, delivery.skip_reason) == (DeliveryStatus.SKIPPED,
                                                       SkipReason.NO_ADDRESS)
    assert expo.requests == []


def test_a_muted_category_skips_push_and_a_critical_one_does_not(
        db, expo, django_capture_on_commit_callbacks):
    ada = with_phone("ada")
    news, security = CategoryFactory(key="news"), CategoryFactory(key="security", critical=True)
    for category in (news, security):
        Preference.objects.create(subscriber=ada, category=category, channel="push", enabled=False)

    push_rule(audience="recipients", category=news)
    [muted] = trigger(django_capture_on_commit_callbacks, ["ada"])
    assert (muted.status, muted.skip_reason) == (DeliveryStatus.SKIPPED, SkipReason.PREFERENCE)

    Delivery.objects.all().delete()
    push_rule(audience="recipients", category=security, name="security")
    sent = [d for d in trigger(django_capture_on_commit_callbacks, ["ada"])
            if d.rule.category == security]
    assert [d.status for d in sent] == [DeliveryStatus.SENT]


def test_quiet_hours_hold_pushes(db, expo, django_capture_on_commit_callbacks):
    ada = with_phone("ada")
    QuietHours.objects.create(subscriber=ada, start=time(0, 0, 1), end=time(0, 0),
                              timezone="UTC")
    push_rule(audience="recipients", category=CategoryFactory())

    [held] = trigger(django_capture_on_commit_callbacks, ["ada"])

    assert held.status == DeliveryStatus.QUEUED and held.next_attempt_at is not None
    assert "quiet hours" in held.last_error and expo.requests == []


def test_a_broadcast_reaches_every_members_devices(db, expo, settings,
                                                   django_capture_on_commit_callbacks):
    settings.DELIVERY_BROADCAST_THRESHOLD = 2  # the broadcast path, set-based on PostgreSQL
    group = RecipientGroup.objects.create(name="#customers")
    people = [with_phone(f"user-{n:02d}") for n in range(6)]
    group.members.set(people)
    push_rule(audience="groups").groups.add(group)

    deliveries = trigger(django_capture_on_commit_callbacks, ["#customers"])

    assert [d.address for d in deliveries] == [p.external_id for p in people]
    assert {d.status for d in deliveries} == {DeliveryStatus.SENT}
    assert sorted(m["to"] for _h, ms in expo.requests for m in ms) == sorted(
        f"ExponentPushToken[{p.external_id}{0:012d}]" for p in people)
