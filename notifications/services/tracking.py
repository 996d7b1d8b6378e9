"""What an ESP reports about a sent e-mail afterwards, applied to its delivery.

Anymail normalises every ESP's tracking webhook into one event (see
``notifications.hooks.anymail``); this module matches it to the delivery by
message id, records it once as a ``TrackingEvent`` (by the ESP's event id) and
moves the delivery forward — never backwards:

* ``delivered`` → delivered (from sent);
* ``bounced`` (permanent) / ``rejected`` → bounced, and a hard bounce marks
  the subscriber's address undeliverable; ``deferred`` is only recorded;
* ``complained`` → marked as spam, and the address becomes undeliverable;
* ``opened`` / ``clicked`` → ``opened_at`` / ``clicked_at``, status unchanged.

Later e-mails to an undeliverable address are skipped (``undeliverable``)
until staff clear the mark (``subscribers_mark_email_deliverable``).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from notifications.models import Channel, Delivery, DeliveryStatus, Subscriber, TrackingEvent

logger = logging.getLogger(__name__)

_SENT = [DeliveryStatus.SENT]
_REACHED = [DeliveryStatus.SENT, DeliveryStatus.DELIVERED]
# Status moves: event type → (new status, statuses it may replace).
_MOVES = {
    "delivered": (DeliveryStatus.DELIVERED, _SENT),
    "bounced": (DeliveryStatus.BOUNCED, _REACHED),
    "rejected": (DeliveryStatus.BOUNCED, _REACHED),
    "complained": (DeliveryStatus.COMPLAINED, [*_REACHED, DeliveryStatus.BOUNCED]),
}
# Anymail reject reasons that mean the address itself is bad (not a policy or a full mailbox).
_ADDRESS_REJECTS = {"bounced", "invalid"}


@dataclass
class EmailTrackingReport:
    """One ESP event, already normalised (Anymail's ``AnymailTrackingEvent`` fields)."""

    event_type: str
    message_id: str
    event_id: str = ""
    occurred_at: datetime | None = None
    recipient: str = ""
    reject_reason: str = ""
    description: str = ""
    mta_response: str = ""
    click_url: str = ""
    user_agent: str = ""
    esp: str = ""
    extra: dict = field(default_factory=dict)

    def detail(self) -> dict[str, str]:
        values = {"esp": self.esp, "recipient": self.recipient,
                  "reject_reason": self.reject_reason, "description": self.description,
                  "mta_response": self.mta_response, "click_url": self.click_url,
                  "user_agent": self.user_agent}
        return {key: str(value)[:1000] for key, value in values.items() if value}


def _message_id_variants(message_id: str) -> set[str]:
    bare = message_id.strip().strip("<>")
    return {bare, f"<{bare}>"} if bare else set()


def delivery_for_message_id(message_id: str) -> Delivery | None:
    """The e-mail delivery an ESP's message id names (the ESP's id or our own Message-ID)."""
    variants = _message_id_variants(message_id or "")
    if not variants:
        return None
    match = Q(provider_message_id__in=variants)
    local, _, domain = next(iter(variants)).strip("<>").partition("@")
    if domain == settings.EMAIL_MESSAGE_ID_DOMAIN:
        try:
            match |= Q(pk=uuid.UUID(local))
        except ValueError:
            pass
    return (Delivery.objects.filter(match, channel=Channel.EMAIL)
            .select_related("subscriber").first())


def delivery_apply_email_tracking(*, report: EmailTrackingReport) -> bool:
    """Record ``report`` and apply it; False when its delivery is unknown or it is a repeat."""
    delivery = delivery_for_message_id(report.message_id)
    if delivery is None:
        logger.info("%s tracking event %r for unknown message ignored", report.esp or "ESP",
                    report.event_type)
        return False
    occurred = report.occurred_at or timezone.now()
    try:
        with transaction.atomic():
            TrackingEvent.objects.create(delivery=delivery, kind=report.event_type[:20],
                                         occurred_at=occurred,
                                         provider_event_id=(report.event_id or "")[:255],
                                         detail=report.detail())
    except IntegrityError:
        return False  # the ESP sent this event before
    now = timezone.now()
    rows = Delivery.objects.filter(pk=delivery.pk)
    kind = report.event_type
    if kind in _MOVES:
        status, allowed = _MOVES[kind]
        fields: dict = {"status": status, "updated_at": now}
        if status != DeliveryStatus.DELIVERED:
            fields["last_error"] = (report.description or report.mta_response
                                    or f"The ESP reports the message {kind}.")[:2000]
        rows.filter(status__in=allowed).update(**fields)
    elif kind == "opened":
        rows.filter(opened_at__isnull=True).update(opened_at=occurred, updated_at=now)
    elif kind == "clicked":
        rows.filter(clicked_at__isnull=True).update(clicked_at=occurred, updated_at=now)
        rows.filter(opened_at__isnull=True).update(opened_at=occurred)  # a click is an open
    if _makes_undeliverable(report):
        subscriber_mark_email_undeliverable(delivery=delivery, report=report, at=now)
    return True


def _makes_undeliverable(report: EmailTrackingReport) -> bool:
    if report.event_type in ("bounced", "complained"):
        return True
    return report.event_type == "rejected" and report.reject_reason in _ADDRESS_REJECTS


def subscriber_mark_email_undeliverable(*, delivery: Delivery, report: EmailTrackingReport,
                                        at: datetime) -> bool:
    """Mark the subscriber's address undeliverable when it is still the address that failed."""
    subscriber = delivery.subscriber
    if subscriber is None or subscriber.email.lower() != delivery.address.lower():
        return False  # a raw group address, or the subscriber has changed address since
    what = "Spam complaint" if report.event_type == "complained" else "Hard bounce"
    reason = f"{what}: {report.description or report.mta_response or report.reject_reason}"
    return bool(Subscriber.objects.filter(pk=subscriber.pk, email_undeliverable_at__isnull=True)
                .update(email_undeliverable_at=at,
                        email_undeliverable_reason=reason.rstrip(": ")[:300]))


def subscribers_mark_email_deliverable(*, subscribers: QuerySet[Subscriber]) -> int:
    """Clear the undeliverable mark (staff fixed the address or the mailbox works again)."""
    return subscribers.filter(email_undeliverable_at__isnull=False).update(
        email_undeliverable_at=None, email_undeliverable_reason="", updated_at=timezone.now())
