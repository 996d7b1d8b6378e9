"""Rule matching, conditions, audience resolution and idempotent re-dispatch."""

from __future__ import annotations

import pytest

from notifications.models import Delivery, Event, EventStatus
from notifications.services.dispatch import event_dispatch_again, event_process
from notifications.services.events import event_ingest
from tests.factories import (
    EmailTemplateFactory,
    GroupTargetFactory,
    RecipientGroupFactory,
    RuleFactory,
    SubscriberFactory,
)

pytestmark = pytest.mark.django_db


def ingest(capture, event_type="order.shipped", to=(), data=None) -> Event:
    with capture(execute=True):
        event, _ = event_ingest(event_type=event_type, recipients=list(to), data=data or {})
    event.refresh_from_db()
    return event


def test_wildcard_rules_match_and_exact_rules_do_not_overmatch(django_capture_on_commit_callbacks):
    user = SubscriberFactory()
    wildcard = RuleFactory(event_type="order.*")
    exact = RuleFactory(event_type="order.cancelled")
    for rule in (wildcard, exact):
        EmailTemplateFactory(rule=rule)
    event = ingest(django_capture_on_commit_callbacks, to=[user.external_id], data={"order_id": 1})
    assert set(event.deliveries.values_list("rule", flat=True)) == {wildcard.pk}


def test_condition_filters_events_and_a_broken_condition_is_noted(
        django_capture_on_commit_callbacks):
    user = SubscriberFactory()
    big = RuleFactory(condition="data.amount > 100")
    broken = RuleFactory(condition="data.missing.deeper > 1")
    for rule in (big, broken):
        EmailTemplateFactory(rule=rule)
    small = ingest(django_capture_on_commit_callbacks, to=[user.external_id],
                   data={"amount": 5, "order_id": 1})
    large = ingest(django_capture_on_commit_callbacks, to=[user.external_id],
                   data={"amount": 500, "order_id": 2})
    assert small.deliveries.count() == 0
    assert list(large.deliveries.values_list("rule", flat=True)) == [big.pk]
    assert broken.name in large.error and large.status == EventStatus.PROCESSED


def test_groups_audience_ignores_event_recipients_and_dedupes_members(
        django_capture_on_commit_callbacks):
    member, outsider = SubscriberFactory(), SubscriberFactory()
    group, other_group = RecipientGroupFactory(), RecipientGroupFactory()
    group.members.add(member)
    other_group.members.add(member)
    GroupTargetFactory(group=group, channel="email", address="list@example.com")
    GroupTargetFactory(group=group, channel="slack", address="https://hooks.example.com/x")
    rule = RuleFactory(audience="groups")
    rule.groups.add(group, other_group)
    EmailTemplateFactory(rule=rule)
    event = ingest(django_capture_on_commit_callbacks, to=[outsider.external_id],
                   data={"order_id": 1})
    addresses = sorted(event.deliveries.values_list("address", flat=True))
    # The member counts once, the slack target is not on the rule's channels,
    # and the event's own recipient is not part of a groups-only audience.
    assert addresses == sorted([member.email, "list@example.com"])


def test_subscriber_without_address_gets_a_skipped_delivery(django_capture_on_commit_callbacks):
    user = SubscriberFactory(phone="")
    rule = RuleFactory(channels=["email", "sms", "matrix"])
    EmailTemplateFactory(rule=rule)
    event = ingest(django_capture_on_commit_callbacks, to=[user.external_id], data={"order_id": 1})
    by_channel = {d.channel: d for d in event.deliveries.all()}
    assert by_channel["email"].status == "sent"
    assert (by_channel["sms"].status, by_channel["sms"].skip_reason) == ("skipped", "no_address")


def test_channel_without_a_provider_reports_not_configured(django_capture_on_commit_callbacks):
    user = SubscriberFactory(phone="+14155550100")
    RuleFactory(channels=["sms"])
    event = ingest(django_capture_on_commit_callbacks, to=[user.external_id])
    [delivery] = event.deliveries.all()
    assert (delivery.status, delivery.skip_reason) == ("skipped", "not_configured")
    assert "not configured" in delivery.last_error


def test_processing_twice_never_duplicates_deliveries(django_capture_on_commit_callbacks):
    from django.core import mail

    user = SubscriberFactory()
    EmailTemplateFactory(rule=RuleFactory())
    event = ingest(django_capture_on_commit_callbacks, to=[user.external_id], data={"order_id": 1})
    with django_capture_on_commit_callbacks(execute=True):
        event_dispatch_again(event=event)
    assert event_process(event_id=event.pk) is None  # already processed: nothing to claim
    assert Delivery.objects.filter(event=event).count() == 1
    assert len(mail.outbox) == 1


def test_locale_falls_back_to_language_then_default(django_capture_on_commit_callbacks):
    from django.core import mail

    rule = RuleFactory()
    EmailTemplateFactory(rule=rule, subject="Default")
    EmailTemplateFactory(rule=rule, locale="de", subject="Deutsch")
    austrian = SubscriberFactory(locale="de-AT")
    french = SubscriberFactory(locale="fr")
    ingest(django_capture_on_commit_callbacks, to=[austrian.external_id, french.external_id],
           data={"order_id": 1})
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert subjects == {austrian.email: "Deutsch", french.email: "Default"}
