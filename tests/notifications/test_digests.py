"""Digests: events batched per subscriber and digest key, sent as one message when due."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.db.models import Count
from django.utils import timezone

from notifications.models import Delivery, DeliveryStatus, Event, SkipReason
from notifications.models.digests import DigestBatch, DigestItem
from notifications.services.digests import (
    Fold,
    digest_context,
    digest_due_at,
    digest_flush,
    digest_item_add,
    digests_flush_due,
)
from notifications.services.events import event_ingest
from tests.factories import EmailTemplateFactory, RuleFactory, SubscriberFactory
from tests.notifications.clock import clock_fixture  # noqa: F401 — the "clock" fixture

pytestmark = pytest.mark.django_db
LIST_TEMPLATE = {
    "subject": "{{ digest.count }} updates",
    "text_body": "{% for item in items %}#{{ item.data.n }} {{ item.event.type }}\n{% endfor %}",
    "html_body": "<ul>{% for item in items %}<li>{{ item.data.n }}</li>{% endfor %}</ul>",
}


def digest_rule(**fields):
    rule = RuleFactory(event_type="build.*", sample_data={"n": 1, "project_id": "p"}, **fields)
    EmailTemplateFactory(rule=rule, **LIST_TEMPLATE)
    return rule


def ingest(capture, n: int, to=("ada",), **data):
    with capture(execute=True):
        event_ingest(event_type="build.failed", recipients=list(to), data={"n": n, **data})


def flush(capture) -> int:
    with capture(execute=True):
        return digests_flush_due()


def test_ten_events_in_the_window_become_one_email_after_it(clock,
                                                           django_capture_on_commit_callbacks):
    digest_rule(digest_window_seconds=3600)
    SubscriberFactory(external_id="ada")
    start = clock.now
    for n in range(10):
        ingest(django_capture_on_commit_callbacks, n)
        clock.advance(minutes=5)
    assert mail.outbox == []
    # Every event leaves a record of where it went.
    folded = Delivery.objects.filter(status=DeliveryStatus.SKIPPED,
                                     skip_reason=SkipReason.DIGESTED)
    assert folded.count() == 10
    assert all("digest batch" in d.last_error for d in folded)

    clock.now = start + timedelta(minutes=59)
    assert flush(django_capture_on_commit_callbacks) == 0
    assert mail.outbox == []

    clock.now = start + timedelta(hours=1)
    assert flush(django_capture_on_commit_callbacks) == 1
    assert flush(django_capture_on_commit_callbacks) == 0
    [message] = mail.outbox
    assert message.subject == "10 updates"
    assert message.body.splitlines() == [f"#{n} build.failed" for n in range(10)]
    batch = DigestBatch.objects.get()
    assert batch.status == DigestBatch.Status.SENT
    assert batch.delivery.status == DeliveryStatus.SENT
    assert batch.delivery.recipient_key == f"digest:{batch.pk}"


def test_event_after_a_flush_starts_a_new_batch(clock, django_capture_on_commit_callbacks):
    digest_rule(digest_window_seconds=600)
    SubscriberFactory(external_id="ada")
    ingest(django_capture_on_commit_callbacks, 1)
    clock.advance(seconds=600)
    flush(django_capture_on_commit_callbacks)
    ingest(django_capture_on_commit_callbacks, 2)
    batches = list(DigestBatch.objects.order_by("opened_at", "pk"))
    assert [b.status for b in batches] == ["sent", "open"]
    assert [i.event.data["n"] for i in batches[1].items.all()] == [2]
    assert batches[1].due_at == clock.now + timedelta(seconds=600)


def test_digest_keys_separate_batches(clock, django_capture_on_commit_callbacks):
    digest_rule(digest_window_seconds=600, digest_key="data.project_id")
    SubscriberFactory(external_id="ada")
    for n, project in enumerate(["web", "api", "web"]):
        ingest(django_capture_on_commit_callbacks, n, project_id=project)
    clock.advance(seconds=600)
    assert flush(django_capture_on_commit_callbacks) == 2
    assert sorted(m.subject for m in mail.outbox) == ["1 updates", "2 updates"]
    keys = dict(DigestBatch.objects.values_list("digest_key").annotate(n=Count("items")))
    assert keys == {"web": 2, "api": 1}


def test_batches_are_per_subscriber(clock, django_capture_on_commit_callbacks):
    digest_rule(digest_window_seconds=600)
    SubscriberFactory(external_id="ada")
    SubscriberFactory(external_id="bob")
    ingest(django_capture_on_commit_callbacks, 1, to=("ada", "bob"))
    ingest(django_capture_on_commit_callbacks, 2, to=("ada",))
    clock.advance(seconds=600)
    flush(django_capture_on_commit_callbacks)
    by_address = {m.to[0]: m.subject for m in mail.outbox}
    assert by_address == {"ada@example.com": "2 updates", "bob@example.com": "1 updates"}


def test_dispatching_an_event_again_adds_no_second_item(clock,
                                                        django_capture_on_commit_callbacks):
    from notifications.services.dispatch import event_dispatch_again

    digest_rule(digest_window_seconds=600)
    SubscriberFactory(external_id="ada")
    ingest(django_capture_on_commit_callbacks, 1)
    clock.advance(seconds=600)
    flush(django_capture_on_commit_callbacks)
    # Its batch is gone out; a second run must not start a new digest with the same event.
    with django_capture_on_commit_callbacks(execute=True):
        event_dispatch_again(event=Event.objects.get())
    assert DigestItem.objects.count() == 1
    assert not DigestBatch.objects.filter(status=DigestBatch.Status.OPEN).exists()


@pytest.mark.parametrize(("opened", "due"), [
    # Winter (CET, UTC+1): 09:00 local is 08:00Z; opened after it → tomorrow.
    (datetime(2026, 3, 27, 7, 0, tzinfo=UTC), datetime(2026, 3, 27, 8, 0, tzinfo=UTC)),
    (datetime(2026, 3, 27, 8, 30, tzinfo=UTC), datetime(2026, 3, 28, 8, 0, tzinfo=UTC)),
    # Clocks go forward on 29 March: from then 09:00 local is 07:00Z.
    (datetime(2026, 3, 28, 8, 30, tzinfo=UTC), datetime(2026, 3, 29, 7, 0, tzinfo=UTC)),
    (datetime(2026, 10, 24, 8, 0, tzinfo=UTC), datetime(2026, 10, 25, 8, 0, tzinfo=UTC)),
])
def test_daily_digest_at_is_nine_local_time_across_dst(opened, due):
    rule = RuleFactory.build(digest_at=time(9, 0))
    vienna = SubscriberFactory.build(timezone="Europe/Vienna")
    assert digest_due_at(rule=rule, subscriber=vienna, opened_at=opened) == due


def test_daily_digest_without_a_subscriber_zone_uses_utc():
    rule = RuleFactory.build(digest_at=time(9, 0))
    nobody = SubscriberFactory.build(timezone="")
    opened = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    assert digest_due_at(rule=rule, subscriber=nobody, opened_at=opened) == datetime(
        2026, 7, 2, 9, 0, tzinfo=UTC)


def test_daily_digest_batch_is_due_at_the_subscribers_morning(clock,
                                                              django_capture_on_commit_callbacks):
    digest_rule(digest_at=time(9, 0))
    SubscriberFactory(external_id="ada", timezone="Europe/Vienna")
    clock.now = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)
    ingest(django_capture_on_commit_callbacks, 1)
    assert DigestBatch.objects.get().due_at == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


def test_rule_refuses_window_and_daily_time_together_and_a_bad_digest_key():
    rule = RuleFactory.build(digest_window_seconds=60, digest_at=time(9, 0))
    with pytest.raises(ValidationError, match="not both"):
        rule.clean()
    rule = RuleFactory.build(digest_key="data.(")
    with pytest.raises(ValidationError) as problem:
        rule.clean()
    assert "digest_key" in problem.value.message_dict


def test_digest_template_validates_against_sample_items():
    from notifications.models import MessageTemplate

    rule = RuleFactory(sample_data={"n": 1})
    ok = MessageTemplate(rule=rule, channel="email", **LIST_TEMPLATE)
    ok.clean()
    broken = MessageTemplate(rule=rule, channel="email", subject="x",
                             text_body="{% for item in items %}{{ item.data.missing }}{% endfor %}")
    with pytest.raises(ValidationError):
        broken.clean()


# --- Concurrency on PostgreSQL: separate connections racing for one batch ----------------------


def _in_thread(target, errors: list) -> threading.Thread:
    def run():
        try:
            target()
        except Exception as exc:  # noqa: BLE001 — reported by the test below
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _someone_waits_for_a_lock() -> bool:
    # pg_locks, not pg_stat_activity: the latter is a snapshot frozen for the
    # length of the caller's transaction, and the caller is inside one.
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0] > 0


@pytest.fixture
def open_batch():
    """An open, already due batch holding one event for ``ada``."""
    digest_rule(digest_window_seconds=600)
    SubscriberFactory(external_id="ada")
    event_ingest(event_type="build.failed", recipients=["ada"], data={"n": 1})
    batch = DigestBatch.objects.get()
    DigestBatch.objects.filter(pk=batch.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    return batch


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_item_arriving_during_a_flush_lands_in_a_new_batch(open_batch):
    from tests.integration.conftest import wait_for

    errors: list = []
    with transaction.atomic():
        delivery = digest_flush(batch_id=open_batch.pk)  # holds the batch row until commit
        adder = _in_thread(lambda: event_ingest(event_type="build.failed", recipients=["ada"],
                                                data={"n": 2}), errors)
        wait_for(_someone_waits_for_a_lock, timeout=10, what="the adder to wait for the flush")
    adder.join(timeout=30)
    assert not errors and not adder.is_alive()
    assert [i.event.data["n"] for i in open_batch.items.all()] == [1]
    assert DigestBatch.objects.get(pk=open_batch.pk).delivery == delivery
    new = DigestBatch.objects.get(status=DigestBatch.Status.OPEN)
    assert [i.event.data["n"] for i in new.items.all()] == [2]


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_flush_waits_for_an_item_being_added_and_sends_it(open_batch):
    from tests.integration.conftest import wait_for

    second = Event.objects.create(event_type="build.failed", recipients=["ada"], data={"n": 2})
    fold = Fold(delivery=Delivery(recipient_key=open_batch.recipient_key, channel="email",
                                  subscriber=open_batch.subscriber, address=open_batch.address),
                digest_key="", due_at=open_batch.due_at)
    errors: list = []
    flushed: list = []
    with transaction.atomic():
        assert digest_item_add(fold=fold, event=second, rule=open_batch.rule) == open_batch
        flusher = _in_thread(lambda: flushed.append(digest_flush(batch_id=open_batch.pk)),
                             errors)
        wait_for(_someone_waits_for_a_lock, timeout=10, what="the flusher to wait for the adder")
    flusher.join(timeout=30)
    assert not errors and flushed and flushed[0] is not None
    assert digest_context(flushed[0])["digest"]["count"] == 2
    assert not DigestBatch.objects.filter(status=DigestBatch.Status.OPEN).exists()
    [message] = mail.outbox
    assert message.subject == "2 updates"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_concurrent_events_share_one_batch_and_concurrent_flushes_send_once():
    digest_rule(digest_window_seconds=600)
    SubscriberFactory(external_id="ada")
    start = threading.Barrier(8)
    errors: list = []

    def add(n: int):
        start.wait(timeout=30)
        event_ingest(event_type="build.failed", recipients=["ada"], data={"n": n})

    threads = [_in_thread(lambda n=n: add(n), errors) for n in range(8)]
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    batch = DigestBatch.objects.get()  # the losers of the insert race joined the winner's batch
    assert batch.items.count() == 8

    DigestBatch.objects.filter(pk=batch.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    go = threading.Barrier(4)
    results: list = []

    def flush_once():
        go.wait(timeout=30)
        results.append(digest_flush(batch_id=batch.pk))

    flushers = [_in_thread(flush_once, errors) for _ in range(4)]
    for thread in flushers:
        thread.join(timeout=60)
    assert not errors
    assert sum(1 for r in results if r is not None) == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].subject == "8 updates"
