"""Claim: take a batch of queued, due deliveries so that no other worker sends them.

Two ways, by what the channel's send is:

* ``deliveries_claim`` — for channels that call the outside world. One
  ``UPDATE … RETURNING`` moves the batch ``queued → sending`` and gives it a
  short lease, committed before anything is sent. ``LeaseKeeper`` renews the
  lease while the batch is in progress, so a live worker never loses its
  batch however slow the provider is, and a dead worker's batch is back in
  play one lease (``DELIVERY_LEASE_SECONDS``) after it died.
* ``deliveries_lock`` / ``deliveries_lock_rows`` — for channels whose send is
  a write to this database (the in-app inbox). The rows are locked (``FOR
  UPDATE SKIP LOCKED``) inside the transaction that sends and records them: a
  crash rolls everything back, so no lease is needed and each row is updated
  once, not twice. ``deliveries_lock_rows`` returns plain rows, for batches
  whose words are the same for every recipient.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from notifications.bulk_sql import column_in
from notifications.models import Delivery, DeliveryStatus, Event, Rule, Subscriber

logger = logging.getLogger(__name__)



def with_relations(deliveries: list[Delivery]) -> list[Delivery]:
    """Attach each delivery's event and rule, loaded once per batch and shared (a broadcast's
    thousand deliveries have one event: not a thousand copies of its data)."""
    events = Event.objects.in_bulk({d.event_id for d in deliveries})
    rules = Rule.objects.select_related("category").in_bulk(
        {d.rule_id for d in deliveries if d.rule_id})
    for delivery in deliveries:
        delivery.event = events[delivery.event_id]
        delivery.rule = rules.get(delivery.rule_id)
    return deliveries


def due() -> Q:
    """Deliveries whose time has come (no hold, or a hold that has passed)."""
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now())


def lease_until():
    return timezone.now() + timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)


def delivery_claim(delivery_id) -> bool:
    """Claim one delivery (the per-delivery path); True when this caller won it."""
    return bool(Delivery.objects.filter(due(), pk=delivery_id, status=DeliveryStatus.QUEUED)
                .update(status=DeliveryStatus.SENDING, attempts=F("attempts") + 1,
                        lease_expires_at=lease_until()))


def deliveries_claim(delivery_ids: list) -> list[Delivery]:
    """Claim every queued, due delivery among ``delivery_ids``; return them with their relations.

    The claim is its own committed statement; rows another worker holds are
    not queued any more and are simply not returned.
    """
    if not delivery_ids:
        return []
    lease = lease_until()
    with transaction.atomic():
        claimed = Delivery.objects.filter(due(), column_in(Delivery, "id", delivery_ids),
                                          status=DeliveryStatus.QUEUED)
        if connection.vendor == "postgresql":
            # skip_locked: a row another worker is claiming this instant is theirs.
            free = claimed.select_for_update(skip_locked=True).values("pk")
            ids = _update_returning(free, lease)
        else:
            ids = list(claimed.values_list("pk", flat=True))
            Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.QUEUED).update(
                status=DeliveryStatus.SENDING, attempts=F("attempts") + 1, lease_expires_at=lease)
    return with_relations(list(Delivery.objects.filter(column_in(Delivery, "id", ids),
                                                       status=DeliveryStatus.SENDING)
                               .select_related("subscriber")))


def _update_returning(free, lease) -> list:
    """``UPDATE … SET status = 'sending' … WHERE id IN (<free>) RETURNING id`` in one statement."""
    table = Delivery._meta.db_table
    sql, params = free.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, attempts = attempts + 1, lease_expires_at = %s "  # noqa: S608
            f"WHERE id IN ({sql}) RETURNING id", [DeliveryStatus.SENDING, lease, *params])
        return [row[0] for row in cursor.fetchall()]


def deliveries_lock(delivery_ids: list) -> list[Delivery]:
    """Lock the queued, due deliveries among ``delivery_ids`` for the current transaction.

    Their ``attempts`` already count the attempt being made (as after a claim).
    """
    locked = Delivery.objects.filter(due(), column_in(Delivery, "id", delivery_ids),
                                     status=DeliveryStatus.QUEUED)
    if connection.features.has_select_for_update_skip_locked:
        locked = locked.select_for_update(skip_locked=True, of=("self",))
    deliveries = with_relations(list(locked.select_related("subscriber")))
    for delivery in deliveries:
        delivery.attempts += 1
    return deliveries


@dataclass(frozen=True)
class LockedRow:
    """What a lean lock returns per delivery: enough to group, word and write a uniform batch."""

    pk: object
    event_id: object
    rule_id: int | None
    subscriber_id: int | None
    parent_id: object
    recipient_key: str
    attempts: int  # counting the attempt being made
    locale: str


def deliveries_lock_rows(delivery_ids: list) -> list[LockedRow]:
    """Lock the queued, due deliveries among ``delivery_ids`` (PostgreSQL) and return them as
    plain rows, without building a model object per delivery."""
    table, subscribers = Delivery._meta.db_table, Subscriber._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT d.id, d.event_id, d.rule_id, d.subscriber_id, d.parent_id, d.recipient_key, "  # noqa: S608
            f"d.attempts + 1, coalesce(s.locale, '') FROM {table} d "
            f"LEFT JOIN {subscribers} s ON s.id = d.subscriber_id "
            f"WHERE d.id = ANY(%s) AND d.status = %s "
            f"AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= %s) "
            f"FOR UPDATE OF d SKIP LOCKED",
            [list(delivery_ids), DeliveryStatus.QUEUED, timezone.now()])
        return [LockedRow(*row) for row in cursor.fetchall()]


class LeaseKeeper:
    """Renew the lease of a batch in progress every third of the lease, from a thread.

    Used as a context manager around the provider calls; the thread has its
    own database connection and closes it when the batch is done.
    """

    def __init__(self, delivery_ids: list):
        self.delivery_ids = list(delivery_ids)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> LeaseKeeper:
        # SQLite in tests and the embedded default: one writer, short batches; no thread.
        if self.delivery_ids and connection.vendor == "postgresql":
            self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        interval = max(settings.DELIVERY_LEASE_SECONDS / 3, 0.5)
        try:
            while not self._stop.wait(interval):
                try:
                    Delivery.objects.filter(pk__in=self.delivery_ids,
                                            status=DeliveryStatus.SENDING).update(
                        lease_expires_at=lease_until())
                except Exception:  # noqa: BLE001 — the next renewal (or the sweeper) copes
                    logger.exception("could not renew the lease of %d deliveries",
                                     len(self.delivery_ids))
                    close_old_connections()
        finally:
            connection.close()
