"""Throttling: at most N messages per subscriber, category and channel in a window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from notifications.models import Delivery, DeliveryStatus, SkipReason
from notifications.models.digests import DigestBatch
from notifications.services.digests import digests_flush_due
from notifications.services.events import event_ingest
from tests.factories import CategoryFactory, EmailTemplateFactory, RuleFactory, SubscriberFactory
from tests.notifications.clock import clock_fixture  # noqa: F401 — the "clock" fixture

pytestmark = pytest.mark.django_db


def throttled_rule(*, critical: bool = False):
    category = CategoryFactory(throttle_limit=2, throttle_window_seconds=3600, critical=critical)
    rule = RuleFactory(event_type="alert.raised", category=category, sample_data={"n": 1},
                       channels=["email"])
    EmailTemplateFactory(rule=rule, subject="{{ digest.count }} alert(s)",
                         text_body="{% for item in items %}{{ item.data.n }};{% endfor %}",
                         html_body="")
    SubscriberFactory(external_id="ada")
    return rule


def ingest(capture, n: int) -> None:
    with capture(execute=True):
        event_ingest(event_type="alert.raised", recipients=["ada"], data={"n": n})


def test_excess_is_folded_into_one_digest_sent_when_the_window_ends(
        clock, django_capture_on_commit_callbacks):
    throttled_rule()
    start = clock.now
    for n in range(1, 6):
        ingest(django_capture_on_commit_callbacks, n)
        clock.advance(minutes=1)
    assert [m.subject for m in mail.outbox] == ["1 alert(s)", "1 alert(s)"]
    folded = Delivery.objects.filter(status=DeliveryStatus.SKIPPED,
                                     skip_reason=SkipReason.DIGESTED)
    assert sorted(d.event.data["n"] for d in folded) == [3, 4, 5]
    batch = DigestBatch.objects.get()
    # The first message of the window ages out an hour after it was sent.
    assert batch.due_at == start + timedelta(hours=1)

    clock.now = start + timedelta(minutes=59)
    with django_capture_on_commit_callbacks(execute=True):
        assert digests_flush_due() == 0
    clock.now = start + timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert digests_flush_due() == 1
    assert len(mail.outbox) == 3
    assert mail.outbox[2].subject == "3 alert(s)"
    assert mail.outbox[2].body == "3;4;5;"


def test_window_slides_so_later_events_are_sent_normally(clock,
                                                         django_capture_on_commit_callbacks):
    throttled_rule()
    ingest(django_capture_on_commit_callbacks, 1)
    ingest(django_capture_on_commit_callbacks, 2)
    clock.advance(hours=1, seconds=1)
    ingest(django_capture_on_commit_callbacks, 3)
    assert len(mail.outbox) == 3
    assert not DigestBatch.objects.exists()


def test_critical_category_is_never_throttled(clock, django_capture_on_commit_callbacks):
    throttled_rule(critical=True)
    for n in range(5):
        ingest(django_capture_on_commit_callbacks, n)
    assert len(mail.outbox) == 5
    assert not DigestBatch.objects.exists()


def test_limit_counts_per_channel(clock, django_capture_on_commit_callbacks):
    rule = throttled_rule()
    rule.channels = ["email", "inapp"]
    rule.save()
    for n in range(3):
        ingest(django_capture_on_commit_callbacks, n)
    by_channel = {}
    for delivery in Delivery.objects.all():
        by_channel.setdefault(delivery.channel, []).append(delivery.status)
    assert sorted(by_channel["email"]) == ["sent", "sent", "skipped"]
    assert sorted(by_channel["inapp"]).count("skipped") == 1
