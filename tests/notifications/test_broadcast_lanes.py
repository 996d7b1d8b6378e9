"""A broadcast is fanned out chunk by chunk in its own lane; a single-recipient event is not."""

from __future__ import annotations

import pytest

from inbox.models import Notification
from notifications import handoff
from notifications.models import Delivery, Event, MessageTemplate
from notifications.services.events import event_ingest
from tests.factories import RecipientGroupFactory, RuleFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(monkeypatch):
    """Every task published, as (task name, lane), still run (eagerly) as usual."""
    seen: list[tuple[str, str]] = []
    real = handoff._publish

    def publish(name, args, lane):
        seen.append((name, lane))
        real(name, args, lane)

    monkeypatch.setattr(handoff, "_publish", publish)
    return seen


def _inbox_rule(event_type: str, group=None):
    rule = RuleFactory(event_type=event_type, channels=["inapp"],
                       audience="groups" if group else "recipients")
    if group is not None:
        rule.groups.add(group)
    # Words per language (picked per subscriber when sent): every delivery goes through a
    # send task, on every database.
    MessageTemplate.objects.create(rule=rule, channel="inapp",
                                   inapp_title="Hi {{ subscriber.first_name }}")
    MessageTemplate.objects.create(rule=rule, channel="inapp", locale="de",
                                   inapp_title="Hallo {{ subscriber.first_name }}")
    return rule


def test_a_broadcast_is_written_in_chunks_by_tasks_in_the_broadcast_lane(
        settings, published, django_capture_on_commit_callbacks):
    settings.FANOUT_CHUNK_SIZE = 7
    group = RecipientGroupFactory()
    group.members.add(*SubscriberFactory.create_batch(40))
    _inbox_rule("news.posted", group)
    with django_capture_on_commit_callbacks(execute=True):
        event, _ = event_ingest(event_type="news.posted", recipients=[], data={})
    event.refresh_from_db()
    assert (event.status, event.fanout_open) == ("processed", 0)
    assert Notification.objects.count() == 40
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}
    lanes = {name: {lane for n, lane in published if n == name} for name, _ in published}
    assert lanes[handoff.PROCESS_EVENT] == {handoff.NOTIFY}
    assert lanes[handoff.FAN_OUT_EVENT] == {handoff.BROADCAST}
    assert lanes[handoff.SEND_DELIVERIES] == {handoff.BROADCAST}
    # 40 members in chunks of 7: six chunks, the first handed on by the event's own task.
    assert sum(1 for name, _ in published if name == handoff.FAN_OUT_EVENT) == 6


def test_a_single_recipient_event_stays_in_the_notify_lane(
        published, django_capture_on_commit_callbacks):
    user = SubscriberFactory()
    _inbox_rule("password.reset")
    with django_capture_on_commit_callbacks(execute=True):
        event_ingest(event_type="password.reset", recipients=[user.external_id], data={})
    assert {lane for _, lane in published} == {handoff.NOTIFY}
    assert Event.objects.get().status == "processed"
    assert Delivery.objects.get().status == "delivered"


def test_a_hand_off_whose_process_died_before_publishing_is_handed_over_again(
        monkeypatch, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from notifications.models import Handoff
    from notifications.services.sweeper import sweep

    users = SubscriberFactory.create_batch(3)
    _inbox_rule("password.reset")
    # The worker is killed after the fan-out commits, before it publishes the send task.
    monkeypatch.setattr(handoff, "_send_after_commit", lambda *args: None)
    with django_capture_on_commit_callbacks(execute=True):
        event_ingest(event_type="password.reset", data={},
                     recipients=[user.external_id for user in users])
    assert set(Delivery.objects.values_list("status", flat=True)) == {"queued"}
    assert not Delivery.objects.filter(enqueued_at__isnull=True).exists()
    [lost] = Handoff.objects.all()
    monkeypatch.undo()

    with django_capture_on_commit_callbacks(execute=True):
        sweep()  # within the grace period: the publish may still be under way
    assert set(Delivery.objects.values_list("status", flat=True)) == {"queued"}
    Handoff.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        sweep()
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}
    assert Notification.objects.count() == 3 and not Handoff.objects.exists()


def test_a_published_hand_off_leaves_no_record(django_capture_on_commit_callbacks):
    from notifications.models import Handoff

    _inbox_rule("password.reset")
    user = SubscriberFactory()
    with django_capture_on_commit_callbacks(execute=True):
        event_ingest(event_type="password.reset", recipients=[user.external_id], data={})
    assert Delivery.objects.get().status == "delivered" and not Handoff.objects.exists()
