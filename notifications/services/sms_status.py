"""Twilio's status callbacks applied to SMS deliveries.

Twilio reports each message's progress (``queued → sent → delivered`` or
``undelivered`` / ``failed``) to the StatusCallback URL given at send time,
which names the delivery. Callbacks can arrive out of order and even before
our own send call has returned, so each one only moves a delivery forward:
a final status (delivered, undelivered, failed) is applied to a delivery that
is still queued, sending or sent, and never to one that already has a final
status; ``sent`` only confirms what the send call recorded.
"""

from __future__ import annotations

import logging
import uuid

from django.db.models import Q
from django.utils import timezone

from notifications.models import Channel, Delivery, DeliveryStatus

logger = logging.getLogger(__name__)

FINAL = {
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.DELIVERED,  # WhatsApp senders report "read" after "delivered"
    "undelivered": DeliveryStatus.UNDELIVERED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}
_OPEN = [DeliveryStatus.QUEUED, DeliveryStatus.SENDING, DeliveryStatus.SENT]


def delivery_apply_sms_status(*, delivery_id: str | None, message_sid: str, status: str,
                              error_code: str = "") -> bool:
    """Apply one status callback; return True when a delivery changed."""
    target = _find(delivery_id, message_sid)
    if target is None:
        logger.info("Twilio status %r for unknown message %s ignored", status, message_sid)
        return False
    now = timezone.now()
    # Also for a delivery whose send call has not returned yet (still "sending"):
    # the message exists at Twilio, so its id is recorded here too.
    fields: dict = {"provider_message_id": message_sid, "updated_at": now}
    if status in FINAL:
        final = FINAL[status]
        fields.update(status=final, lease_expires_at=None, next_attempt_at=None,
                      error_code=error_code if final != DeliveryStatus.DELIVERED else "")
        if final != DeliveryStatus.DELIVERED:
            fields["last_error"] = (f"Twilio reports the message {status}"
                                    + (f" (error {error_code})." if error_code else "."))
        allowed = _OPEN
    elif status == "sent":
        fields.update(status=DeliveryStatus.SENT, lease_expires_at=None, next_attempt_at=None)
        allowed = [DeliveryStatus.QUEUED, DeliveryStatus.SENDING]
    else:
        return False  # queued, accepted, sending, scheduled: nothing new for us
    changed = target.filter(status__in=allowed).update(**fields)
    if changed and status in FINAL and FINAL[status] != DeliveryStatus.FAILED:
        target.filter(sent_at__isnull=True).update(sent_at=now)
    return bool(changed)


def _find(delivery_id: str | None, message_sid: str):
    """The delivery this callback is about, as a queryset of at most one row, or None."""
    sms = Delivery.objects.filter(channel=Channel.SMS)
    if delivery_id:
        try:
            pk = uuid.UUID(delivery_id)
        except ValueError:
            return None
        # Named by our own URL; a recorded message id must also match (a replayed
        # callback for another message cannot move this delivery).
        found = sms.filter(Q(provider_message_id="") | Q(provider_message_id=message_sid), pk=pk)
    else:
        found = sms.filter(provider_message_id=message_sid)
    return found if message_sid and found.exists() else None
