"""Preferences in dispatch: muted → skipped, quiet hours → deferred, critical → always sent."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from inbox.models import Preference, QuietHours
from inbox.services.gating import quiet_hours_end
from notifications.models import Delivery
from notifications.services.events import event_ingest
from tests.factories import CategoryFactory, EmailTemplateFactory, RuleFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


def trigger(capture, subscriber, category):
    rule = RuleFactory(category=category, channels=["email", "inapp"])
    EmailTemplateFactory(rule=rule)
    with capture(execute=True):
        event_ingest(event_type="order.shipped", recipients=[subscriber.external_id],
                     data={"order_id": 1})
    return {d.channel: d for d in Delivery.objects.all()}


def test_muted_category_and_channel_is_skipped_with_the_reason(django_capture_on_commit_callbacks):
    user, news = SubscriberFactory(), CategoryFactory()
    Preference.objects.create(subscriber=user, category=news, channel="email", enabled=False)
    deliveries = trigger(django_capture_on_commit_callbacks, user, news)
    assert (deliveries["email"].status, deliveries["email"].skip_reason) == ("skipped", "preference")
    assert deliveries["inapp"].status == "delivered"


def test_critical_category_ignores_mutes(django_capture_on_commit_callbacks):
    user, security = SubscriberFactory(), CategoryFactory(critical=True)
    Preference.objects.create(subscriber=user, category=security, channel="email", enabled=False)
    assert trigger(django_capture_on_commit_callbacks, user, security)["email"].status == "sent"


def test_quiet_hours_defer_email_but_not_the_inbox(django_capture_on_commit_callbacks, mailoutbox):
    user, news = SubscriberFactory(), CategoryFactory()
    # A window that always contains "now": from one minute past midnight round to midnight.
    QuietHours.objects.create(subscriber=user, start=time(0, 0, 1), end=time(0, 0),
                              timezone="UTC")
    deliveries = trigger(django_capture_on_commit_callbacks, user, news)
    email = deliveries["email"]
    assert email.status == "queued" and email.next_attempt_at is not None
    assert "quiet hours" in email.last_error and mailoutbox == []
    assert deliveries["inapp"].status == "delivered"


@pytest.mark.parametrize("now, expected", [
    # 23:30 in Vienna (CET, UTC+1) is inside 22:00–07:00; the window ends 07:00 local next day.
    (datetime(2026, 1, 15, 22, 30, tzinfo=UTC), datetime(2026, 1, 16, 6, 0, tzinfo=UTC)),
    # 03:00 local: inside, ends the same morning.
    (datetime(2026, 1, 16, 2, 0, tzinfo=UTC), datetime(2026, 1, 16, 6, 0, tzinfo=UTC)),
    # 12:00 local: outside.
    (datetime(2026, 1, 16, 11, 0, tzinfo=UTC), None),
    # Across the spring DST change (29 March 2026, 02:00 → 03:00 CEST): ends 07:00 CEST = 05:00 UTC.
    (datetime(2026, 3, 28, 22, 0, tzinfo=UTC), datetime(2026, 3, 29, 5, 0, tzinfo=UTC)),
])
def test_quiet_hours_end_in_the_subscribers_time_zone(now, expected):
    end = quiet_hours_end(now=now, start=time(22), end=time(7), tz_name="Europe/Vienna")
    assert (end.astimezone(UTC) if end else None) == expected


def test_daytime_window_without_midnight():
    lunch = quiet_hours_end(now=datetime(2026, 5, 4, 12, 30, tzinfo=UTC), start=time(12),
                            end=time(13), tz_name="UTC")
    assert lunch == datetime(2026, 5, 4, 13, 0, tzinfo=UTC)
