"""The in-app channel: rows in the subscriber's inbox, pushed live to their open sessions.

Deliveries arrive in batches; each batch becomes one bulk INSERT of inbox rows
(unique per delivery, so a retried batch writes nothing twice) and, after
commit, one batch of pushes to the subscribers' sessions with their new unread counts.
The pipeline calls it inside the transaction that locked the batch (see
``notifications.services.sending``) and creates escalations afterwards.
"""

from __future__ import annotations

import json

from django.db import connection
from django.utils import timezone

from inbox.models import Notification
from inbox.services.announce import notifications_push_created, notifications_push_rows
from notifications.bulk_sql import rows_insert
from notifications.models import Delivery
from notifications.providers.base import PermanentError, Provider, SendResult


def _content(delivery: Delivery) -> dict[str, str]:
    return _words(delivery.rendered or {}, delivery.event.event_type)


def _level(event) -> str:
    level = event.data.get("level") if isinstance(event.data, dict) else None
    return level if level in {"info", "success", "warning", "error"} else "info"


def _words(rendered: dict, event_type: str) -> dict[str, str]:
    """Title, body and link from the in-app fields, else from the e-mail words it borrowed."""
    title = rendered.get("inapp_title") or rendered.get("subject") or event_type
    body = rendered.get("inapp_body") or rendered.get("short_body") or rendered.get("text_body", "")
    return {"title": " ".join(title.split())[:500], "body": body,
            "action_url": rendered.get("action_url", "")[:1000]}


class InAppProvider(Provider):
    channel = "inapp"
    addressed_by_subscriber = True
    sends_in_bulk = True

    def send(self, delivery: Delivery) -> SendResult:
        outcome = self.send_bulk([delivery])[delivery.pk]
        if isinstance(outcome, SendResult):
            return outcome
        raise outcome

    def send_bulk(self, deliveries: list[Delivery]) -> dict[object, SendResult | PermanentError]:
        outcomes: dict[object, SendResult | PermanentError] = {}
        now = timezone.now()
        rows = []
        for delivery in deliveries:
            if delivery.subscriber_id is None:
                outcomes[delivery.pk] = PermanentError("In-app messages need a subscriber.")
                continue
            event = delivery.event
            content = _content(delivery)
            rows.append((delivery.subscriber_id, delivery.pk,
                         delivery.rule.category_id if delivery.rule else None,
                         content["title"], content["body"], content["action_url"], _level(event),
                         {"event": event.event_type, "event_id": str(event.pk)}, now))
        # A batch retried after a crash finds some rows written already: write only the rest,
        # and push only those, so an open inbox never shows the same notification twice.
        batch_ids = [row[1] for row in rows]
        existing = dict(Notification.objects.filter(delivery_id__in=batch_ids)
                        .values_list("delivery_id", "pk"))
        rows_insert(Notification, ("subscriber", "delivery", "category", "title", "body",
                                   "action_url", "level", "data", "created_at"),
                    [row for row in rows if row[1] not in existing])
        written = list(Notification.objects.filter(delivery_id__in=batch_ids)
                       .exclude(delivery_id__in=list(existing)).select_related("category"))
        notifications_push_created(written)
        ids = {**existing, **{n.delivery_id: n.pk for n in written}}
        for delivery_id, notification_id in ids.items():
            outcomes[delivery_id] = SendResult(provider_message_id=f"inbox:{notification_id}",
                                               delivered=True)
        return outcomes

    sends_uniform = True

    def send_uniform(self, delivery_ids: list, rendered: dict, *, event, rule
                     ) -> dict[object, SendResult]:
        """One ``INSERT … SELECT`` writes the inbox rows of the whole batch; rows a retried
        batch wrote before are kept (and not pushed again)."""
        words, now = self.words_for(rendered, event=event), timezone.now()
        inbox, deliveries = Notification._meta.db_table, Delivery._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {inbox} (subscriber_id, delivery_id, category_id, title, body, "  # noqa: S608
                f"action_url, level, data, created_at) "
                f"SELECT d.subscriber_id, d.id, %s, %s, %s, %s, %s, %s::jsonb, %s "
                f"FROM {deliveries} d WHERE d.id = ANY(%s) AND d.subscriber_id IS NOT NULL "
                f"AND NOT EXISTS (SELECT 1 FROM {inbox} n WHERE n.delivery_id = d.id) "
                f"RETURNING id, subscriber_id, delivery_id",
                [rule.category_id if rule else None, words["title"], words["body"],
                 words["action_url"], words["level"], json.dumps(words["data"]), now,
                 list(delivery_ids)])
            written = cursor.fetchall()
            ids = {delivery_id: pk for pk, _, delivery_id in written}
            if len(written) < len(delivery_ids):
                cursor.execute(f"SELECT delivery_id, id FROM {inbox} WHERE delivery_id = ANY(%s)",  # noqa: S608
                               [list(delivery_ids)])
                ids.update({delivery_id: pk for delivery_id, pk in cursor.fetchall()})
        self.announce(written, lambda _: rendered, event=event, rule=rule, created_at=now)
        return {delivery_id: SendResult(provider_message_id=f"inbox:{pk}", delivered=True)
                for delivery_id, pk in ids.items()}

    def words_for(self, rendered: dict, *, event) -> dict:
        """The inbox row's title, body, link, level and data for ``rendered`` words."""
        return {**_words(rendered, event.event_type), "level": _level(event),
                "data": {"event": event.event_type, "event_id": str(event.pk)}}

    def announce(self, written: list[tuple[int, int, object]], words_of, *, event, rule,
                 created_at) -> None:
        """Push inbox rows written set-based — ``(id, subscriber id, delivery id)``, with
        ``words_of(subscriber id)`` their rendered words — to their subscribers' open
        sessions after commit."""
        category = rule.category.key if rule is not None and rule.category_id else None
        level = _level(event)
        data = {"event": event.event_type, "event_id": str(event.pk)}
        at = created_at.isoformat()
        shared: dict[int, dict] = {}  # the dict a client sees, built once per set of words

        def payload(pk: int, subscriber_id: int) -> dict:
            rendered = words_of(subscriber_id)
            key = id(rendered)
            if key not in shared:
                shared[key] = {**_words(rendered, event.event_type), "level": level,
                               "category": category, "data": data, "created_at": at,
                               "read_at": None}
            return {"id": pk, **shared[key]}

        notifications_push_rows([(subscriber_id, payload(pk, subscriber_id))
                                 for pk, subscriber_id, _ in written])
