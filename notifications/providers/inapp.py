"""The in-app channel: rows in the subscriber's inbox, pushed live to their open sessions.

Deliveries arrive in batches; each batch becomes one bulk INSERT of inbox rows
(unique per delivery, so a retried batch writes nothing twice) and, after
commit, one batch of pushes to the subscribers' sessions with their new unread counts.
The pipeline calls it inside the transaction that locked the batch (see
``notifications.services.sending``) and creates escalations afterwards.
"""

from __future__ import annotations

from notifications.models import Delivery
from notifications.providers.base import PermanentError, Provider, SendResult


def _content(delivery: Delivery) -> dict[str, str]:
    """Title, body and link from the in-app fields, else from the e-mail words it borrowed."""
    rendered = delivery.rendered or {}
    title = rendered.get("inapp_title") or rendered.get("subject") or delivery.event.event_type
    body = rendered.get("inapp_body") or rendered.get("short_body") or rendered.get("text_body", "")
    return {"title": " ".join(title.split())[:500], "body": body,
            "action_url": rendered.get("action_url", "")[:1000]}


class InAppProvider(Provider):
    channel = "inapp"
    sends_in_bulk = True

    def send(self, delivery: Delivery) -> SendResult:
        outcome = self.send_bulk([delivery])[delivery.pk]
        if isinstance(outcome, SendResult):
            return outcome
        raise outcome

    def send_bulk(self, deliveries: list[Delivery]) -> dict[object, SendResult | PermanentError]:
        from inbox.models import Notification
        from inbox.services.notifications import notifications_push_created

        outcomes: dict[object, SendResult | PermanentError] = {}
        rows = []
        for delivery in deliveries:
            if delivery.subscriber_id is None:
                outcomes[delivery.pk] = PermanentError("In-app messages need a subscriber.")
                continue
            event = delivery.event
            level = event.data.get("level") if isinstance(event.data, dict) else None
            rows.append(Notification(
                subscriber_id=delivery.subscriber_id, delivery=delivery,
                category=delivery.rule.category if delivery.rule else None,
                level=level if level in {"info", "success", "warning", "error"} else "info",
                data={"event": event.event_type, "event_id": str(event.pk)}, **_content(delivery)))
        # A batch retried after a crash finds some rows written already: write only the rest,
        # and push only those, so an open inbox never shows the same notification twice.
        batch_ids = [row.delivery_id for row in rows]
        existing = set(Notification.objects.filter(delivery_id__in=batch_ids)
                       .values_list("delivery_id", flat=True))
        Notification.objects.bulk_create([row for row in rows if row.delivery_id not in existing],
                                         ignore_conflicts=True, batch_size=500)
        written = list(Notification.objects.filter(delivery_id__in=batch_ids).select_related("category"))
        notifications_push_created([n for n in written if n.delivery_id not in existing])
        for notification in written:
            outcomes[notification.delivery_id] = SendResult(
                provider_message_id=f"inbox:{notification.pk}", delivered=True)
        return outcomes
