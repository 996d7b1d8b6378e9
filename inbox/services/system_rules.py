"""Rules Clarion needs for its own features, created when first needed and left editable.

The inbox's "send me a test notification" goes through the ordinary pipeline,
so it needs an ordinary rule; staff may change its words, or disable it.
"""

from __future__ import annotations

from django.db import transaction

from notifications.models import MessageTemplate, Rule

TEST_RULE_NAME = "Inbox test notification"


@transaction.atomic
def test_rule_ensure() -> Rule:
    from inbox.services.notifications import TEST_EVENT_TYPE

    rule, created = Rule.objects.get_or_create(
        name=TEST_RULE_NAME,
        defaults={"event_type": TEST_EVENT_TYPE, "channels": ["inapp"], "audience": "recipients",
                  "description": "Sent when a user asks for a test notification in the inbox."})
    if created:
        MessageTemplate.objects.create(
            rule=rule, channel="inapp", inapp_title="Test notification",
            inapp_body="If you can read this, your inbox receives notifications live.")
    return rule
