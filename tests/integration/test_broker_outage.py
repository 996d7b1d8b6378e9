"""Redis stops while events are being posted, then comes back with nothing in it.

The production shape with a Redis of the test's own: a real uvicorn process,
``celery worker`` and ``celery beat`` started as the README starts them. Every
POST made while Redis is down must still be answered 202 (the event is
committed before the broker is asked), the worker must survive the outage and
reconnect on its own, and once Redis is back — empty, as a restarted Redis
without persistence is — beat's sweeps must get every event processed and
every delivery made, each exactly once, without anyone restarting anything.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from inbox.models import Notification
from notifications.models import Delivery, Event, MessageTemplate
from tests.factories import RuleFactory, SubscriberFactory, make_api_key
from tests.integration.conftest import _database_url, wait_for
from tests.processes import Process, WebServer, environment

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BEFORE, DURING, AFTER = 10, 30, 10
#: How long Redis stays down; the posts made meanwhile are spread over it.
OUTAGE_SECONDS = float(os.environ.get("CLARION_OUTAGE_SECONDS", "6"))


def _post(server: WebServer, secret: str, number: int) -> int:
    body = {"event": "order.shipped", "to": ["buyer-1"], "data": {"n": number},
            "idempotency_key": f"order-{number}"}
    request = urllib.request.Request(
        f"{server.url}/api/events", data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 — local server
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _beat_sweeps_every_second() -> None:
    """The sweeps the migrations register, on a one-second tick (written here too: a test
    database may have been emptied by an earlier test)."""
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period="seconds")
    for task in ("notifications.dispatch_due_deliveries", "notifications.recover_stuck_work"):
        PeriodicTask.objects.update_or_create(name=task, defaults={
            "task": task, "interval": every_second, "enabled": True})


def test_events_posted_while_redis_is_down_are_accepted_and_each_sent_once(
        private_redis, celery_queue, settings, tmp_path):
    rule = RuleFactory(event_type="order.shipped", channels=["inapp"], audience="recipients")
    MessageTemplate.objects.create(rule=rule, channel="inapp", inapp_title="Order {{ data.n }}",
                                   inapp_body="shipped")
    SubscriberFactory(external_id="buyer-1")
    _, secret = make_api_key()
    _beat_sweeps_every_second()
    env = environment(
        DATABASE_URL=_database_url(), REDIS_URL=private_redis.url, SECRET_KEY=settings.SECRET_KEY,
        CELERY_QUEUE=celery_queue, CELERY_TASK_ALWAYS_EAGER="false", EMAIL_URL="console://",
        # Work a restarted (empty) Redis lost is picked up after seconds, not minutes.
        EVENT_STUCK_SECONDS="3", DELIVERY_HANDOFF_LOST_SECONDS="5",
        DELIVERY_HANDOFF_GRACE_SECONDS="3", LIVE_PUSH_GRACE_SECONDS="3")
    server = WebServer(env, tmp_path / "web.log").start()
    celery = [sys.executable, "-m", "celery", "-A", "config"]
    worker = Process([*celery, "worker", "--loglevel=INFO"], env, tmp_path / "worker.log").start()
    beat = Process([*celery, "beat", "--loglevel=INFO"], env, tmp_path / "beat.log").start()
    try:
        wait_for(lambda: " ready." in worker.output(), what="the worker to start")
        statuses = [_post(server, secret, n) for n in range(BEFORE)]
        private_redis.stop()
        back = time.monotonic() + OUTAGE_SECONDS
        slowest = 0.0
        for n in range(BEFORE, BEFORE + DURING):
            started = time.monotonic()
            statuses.append(_post(server, secret, n))
            slowest = max(slowest, time.monotonic() - started)
            time.sleep(max(0.0, (back - time.monotonic()) / (BEFORE + DURING - n)))
        private_redis.start()
        came_back = time.monotonic()
        statuses += [_post(server, secret, n) for n in range(BEFORE + DURING,
                                                             BEFORE + DURING + AFTER)]
        assert statuses == [202] * (BEFORE + DURING + AFTER)

        total = BEFORE + DURING + AFTER
        wait_for(lambda: Delivery.objects.filter(status="delivered").count() == total
                 and not Event.objects.exclude(status="processed").exists(),
                 timeout=120, what="every event processed and every delivery made")
        recovered = time.monotonic() - came_back
        assert worker.process.poll() is None, worker.output()[-3000:]
        assert Event.objects.count() == total
        assert Delivery.objects.count() == total
        titles = sorted(Notification.objects.values_list("title", flat=True))
        assert titles == sorted(f"Order {n}" for n in range(total))
        # The figures docs/reliability.md quotes (shown with -s).
        print(f"Redis down {OUTAGE_SECONDS:g} s: {total} posts, {statuses.count(202)} answered "
              f"202, {DURING} of them during the outage (slowest answer {slowest * 1000:.0f} ms); "
              f"{Delivery.objects.count()} deliveries "
              f"for {total} events (0 lost, 0 duplicated); all sent {recovered:.1f} s after "
              "Redis was back, the worker never restarted")
    except BaseException:
        for process in (server, worker, beat):
            print(f"--- {process.log.name}\n{process.output()[-4000:]}")
        raise
    finally:
        for process in (beat, worker, server):
            process.stop()
