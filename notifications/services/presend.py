"""Last checks right before a claimed delivery is handed to its provider.

Dispatch already skips what it can see at creation time; these checks catch
what changed while the delivery waited: an escalated in-app message read in
the meantime, an address that bounced since.
"""

from __future__ import annotations

from notifications.models import Channel, Delivery, SkipReason
from notifications.services.escalation import escalation_parent_seen


def delivery_presend_skip_reason(delivery: Delivery) -> str:
    """The reason to skip ``delivery`` now instead of sending it, or '' to send it."""
    if (delivery.channel == Channel.EMAIL and delivery.subscriber is not None
            and delivery.subscriber.email_undeliverable_at is not None):
        return SkipReason.UNDELIVERABLE
    if escalation_parent_seen(delivery):
        return SkipReason.READ
    return ""
