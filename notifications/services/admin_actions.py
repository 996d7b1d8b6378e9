"""Writes started by staff from the admin that are more than one existing service call.

Sending a rule's test event decides the test's event type, data and recipients
here, so the admin action only reports the outcome; the event itself goes
through ``event_ingest`` and the real pipeline like any other trigger.
"""

from __future__ import annotations

from notifications.models import Event, Rule, Subscriber
from notifications.services.events import event_ingest

# A wildcard rule ("orders.*") needs a concrete type to be triggered with.
TEST_WILDCARD_REPLACEMENT = "test"


def rule_test_event_type(*, rule: Rule) -> str:
    """The concrete event type a test of ``rule`` is sent as."""
    return rule.event_type.replace("*", TEST_WILDCARD_REPLACEMENT)


def rule_test_event_send(*, rule: Rule, staff_subscriber: Subscriber | None) -> Event:
    """Trigger an event that ``rule`` matches, with its sample data, through the pipeline.

    The recipients are the rule's groups plus ``staff_subscriber`` (the staff
    member's own subscriber, when they have one), so the person testing sees
    the result. Raise ``ValidationError`` when the event cannot be accepted.
    """
    recipients: list[str] = list(rule.groups.order_by("name").values_list("name", flat=True))
    if staff_subscriber is not None and staff_subscriber.external_id not in recipients:
        recipients.append(staff_subscriber.external_id)
    event, _created = event_ingest(event_type=rule_test_event_type(rule=rule),
                                   recipients=recipients, data=dict(rule.sample_data or {}),
                                   application=None)
    return event
