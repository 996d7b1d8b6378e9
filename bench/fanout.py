"""Fan-out benchmark: one event to a large group, Clarion's bulk dispatch against the naive way.

The peer is the per-recipient approach the design rules out — one INSERT and
one queued task per recipient — run in the same process, against the same
database and the same in-memory broker, over the same recipients. Only the
dispatch step is timed (rules → audience → delivery rows → tasks queued);
sending is not part of it.

Run: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/clarion_bench .venv/bin/python bench/fanout.py``
(without DATABASE_URL it runs on SQLite in a temporary directory).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("CLARION_VAR_DIR", tempfile.mkdtemp(prefix="clarion-bench-"))
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-0123456789abcdef")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
os.environ["CELERY_BROKER_URL"] = "memory://"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from notifications.models import (  # noqa: E402
    Delivery,
    Event,
    RecipientGroup,
    Rule,
    Subscriber,
)
from notifications.selectors.audience import audience_resolve  # noqa: E402
from notifications.services.dispatch import event_process  # noqa: E402
from notifications.tasks import send_deliveries  # noqa: E402

SIZES = [100, 1_000, 5_000]
ROUNDS = 3


def setup(size: int) -> Rule:
    Delivery.objects.all().delete()
    Event.objects.all().delete()
    Rule.objects.all().delete()
    RecipientGroup.objects.all().delete()
    Subscriber.objects.all().delete()
    subscribers = Subscriber.objects.bulk_create(
        Subscriber(external_id=f"bench-{i}", email=f"bench-{i}@example.com") for i in range(size))
    group = RecipientGroup.objects.create(name="#everyone")
    group.members.add(*subscribers)
    rule = Rule.objects.create(name="bench", event_type="bench.event", channels=["email"],
                               audience="groups")
    rule.groups.add(group)
    return rule


def clarion(rule: Rule) -> float:
    event = Event.objects.create(event_type="bench.event", data={})
    started = time.perf_counter()
    event_process(event_id=event.pk)
    return time.perf_counter() - started


def naive(rule: Rule) -> float:
    """One INSERT and one task per recipient, each in its own transaction."""
    event = Event.objects.create(event_type="bench.event", data={})
    started = time.perf_counter()
    for recipient in audience_resolve(event=event, rule=rule):
        with transaction.atomic():
            delivery = Delivery.objects.create(
                event=event, rule=rule, subscriber=recipient.subscriber, channel="email",
                address=recipient.subscriber.email, recipient_key=recipient.key)
        send_deliveries.delay([str(delivery.pk)])
    return time.perf_counter() - started


def main() -> None:
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}; rounds per cell: {ROUNDS} (median shown)")
    print(f"{'recipients':>10} {'clarion ms':>11} {'naive ms':>9} {'speed-up':>9} "
          f"{'clarion rows/s':>15}")
    for size in SIZES:
        rule = setup(size)
        ours = statistics.median(clarion(rule) for _ in range(ROUNDS))
        theirs = statistics.median(naive(rule) for _ in range(ROUNDS))
        assert Delivery.objects.filter(rule=rule).count() == size * ROUNDS * 2
        print(f"{size:>10} {ours * 1000:>11.0f} {theirs * 1000:>9.0f} {theirs / ours:>8.1f}x "
              f"{size / ours:>15.0f}")


if __name__ == "__main__":
    main()
