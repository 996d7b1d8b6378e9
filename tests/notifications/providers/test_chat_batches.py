"""Chat channels send a batch in parallel (per-host limited), with its stored targets
revealed in one query beforehand; the limit holds for any caller of ``run_per_host``."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.http.concurrent import run_per_host
from notifications.models import Delivery, DeliveryStatus
from notifications.services.dispatch import event_process
from notifications.services.events import event_ingest
from notifications.services.sending import deliveries_send
from tests.notifications.providers.factories import chat_rule
from tests.notifications.providers.fake_service import Reply

pytestmark = pytest.mark.django_db


class Gauge:
    """Counts calls in progress, per key, and keeps the peak."""

    def __init__(self):
        self.lock = threading.Lock()
        self.now: dict[str, int] = {}
        self.peak: dict[str, int] = {}

    def enter(self, key: str) -> None:
        with self.lock:
            self.now[key] = self.now.get(key, 0) + 1
            self.peak[key] = max(self.peak.get(key, 0), self.now[key])

    def leave(self, key: str) -> None:
        with self.lock:
            self.now[key] -= 1


def test_run_per_host_keeps_order_and_each_hosts_limit(settings):
    settings.OUTBOUND_BATCH_CONCURRENCY = 8
    settings.OUTBOUND_PER_HOST_CONCURRENCY = 2
    gauge = Gauge()
    items = [("a", n) for n in range(8)] + [("b", n) for n in range(3)]

    def call(item):
        gauge.enter(item[0])
        time.sleep(0.05)
        gauge.leave(item[0])
        return item[1] * 10

    assert run_per_host(items, call, lambda item: item[0]) == [n * 10 for _, n in items]
    assert gauge.peak == {"a": 2, "b": 2}


def test_run_per_host_with_one_thread_runs_in_turn(settings):
    settings.OUTBOUND_BATCH_CONCURRENCY = 1
    seen = []
    run_per_host([1, 2, 3], lambda n: seen.append((n, threading.current_thread().name)), str)
    assert [n for n, _ in seen] == [1, 2, 3]
    assert {name for _, name in seen} == {threading.current_thread().name}


def test_a_slack_batch_posts_in_parallel_and_reveals_targets_once(
        settings, service, allow_loopback, django_capture_on_commit_callbacks):
    settings.OUTBOUND_PER_HOST_CONCURRENCY = 3
    gauge = Gauge()

    def slow_ok(_request):
        gauge.enter("slack")
        time.sleep(0.2)
        gauge.leave("slack")
        return Reply(200, b"ok", {"Content-Type": "text/html"})

    slack = service(slow_ok)
    chat_rule("slack", short_body="Order {{ data.order_id }} shipped")
    hooks = [f"{slack.url}/services/T0001/B000{n}/secret{n:020d}" for n in range(8)]
    with django_capture_on_commit_callbacks(execute=False):
        event, _ = event_ingest(event_type="order.shipped", data={"order_id": "A-17"},
                                recipients=[{"slack": hook} for hook in hooks])
    with django_capture_on_commit_callbacks(execute=False):
        event_process(event_id=event.pk)
    deliveries = list(Delivery.objects.filter(event=event))
    assert len(deliveries) == 8 and all("secret" not in d.address for d in deliveries)
    with CaptureQueriesContext(connection) as queries:
        deliveries_send(delivery_ids=[d.pk for d in deliveries])

    assert len(slack.requests) == 8 and gauge.peak["slack"] == 3
    assert sum("targetsecret" in q["sql"].lower() for q in queries.captured_queries) == 1
    assert set(Delivery.objects.filter(pk__in=[d.pk for d in deliveries])
               .values_list("status", flat=True)) == {DeliveryStatus.SENT}
