"""End to end with real parts: HTTP → PostgreSQL → Redis → Celery worker → SMTP server."""

from __future__ import annotations

import json
import urllib.request

import pytest

from notifications.models import Delivery, DeliveryStatus, Event
from notifications.services.dispatch import event_dispatch_again
from notifications.services.sweeper import sweep
from tests.factories import EmailTemplateFactory, RuleFactory, SubscriberFactory, make_api_key
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def setup_rule():
    EmailTemplateFactory(rule=RuleFactory(event_type="order.shipped"))
    return SubscriberFactory(external_id="buyer-1", first_name="Ada")


def post_event(base_url: str, secret: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"{base_url}/api/events", data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 — local server
        assert response.status == 202
        return json.load(response)


def delivery_in(*statuses: str):
    return lambda: Delivery.objects.filter(status__in=statuses).first()


def test_http_trigger_is_sent_by_a_worker_to_the_smtp_server(live_server, setup_rule,
                                                             start_worker, smtp_server):
    start_worker()
    _, secret = make_api_key()
    accepted = post_event(live_server.url, secret, {
        "event": "order.shipped", "to": ["buyer-1"], "data": {"order_id": "A-77"},
        "idempotency_key": "ship-A-77"})
    delivery = wait_for(delivery_in("sent"), what="the delivery to be sent")
    [message] = smtp_server.messages
    assert message["Subject"] == "Order A-77 shipped"
    assert message["X-Envelope-To"] == "buyer-1@example.com"
    assert message["Message-ID"] == f"<{delivery.pk}@clarion.localhost>"
    assert Event.objects.get(pk=accepted["id"]).status == "processed"

    # The same idempotency key again: same event, nothing new sent.
    again = post_event(live_server.url, secret, {
        "event": "order.shipped", "to": ["buyer-1"], "data": {"order_id": "A-77"},
        "idempotency_key": "ship-A-77"})
    assert again["id"] == accepted["id"]
    assert Delivery.objects.count() == 1 and len(smtp_server.messages) == 1


def test_transient_error_then_success_through_the_worker(setup_rule, start_worker, smtp_server,
                                                         django_capture_on_commit_callbacks):
    from notifications.services.events import event_ingest

    start_worker(DELIVERY_RETRY_BASE_SECONDS="0")
    smtp_server.handler.replies = ["451 4.7.1 Greylisted"]
    event_ingest(event_type="order.shipped", recipients=["buyer-1"], data={"order_id": "B"})
    first = wait_for(lambda: Delivery.objects.filter(attempts=1, status="queued").first(),
                     what="the first, failed attempt")
    assert "451" in first.last_error
    sweep()  # what beat runs: hands the due retry back to the worker
    delivery = wait_for(delivery_in("sent"), what="the retry to succeed")
    assert delivery.attempts == 2 and len(smtp_server.messages) == 1


def test_permanent_error_fails_through_the_worker(setup_rule, start_worker, smtp_server):
    from notifications.services.events import event_ingest

    start_worker()
    smtp_server.handler.replies = ["550 5.1.1 Mailbox does not exist"]
    event_ingest(event_type="order.shipped", recipients=["buyer-1"], data={"order_id": "C"})
    delivery = wait_for(delivery_in("failed"), what="the delivery to fail")
    assert "550" in delivery.last_error and delivery.attempts == 1
    assert smtp_server.messages == []


def test_worker_killed_mid_send_is_recovered_by_the_sweeper(setup_rule, start_worker,
                                                            smtp_server):
    from notifications.services.events import event_ingest

    first_worker = start_worker()
    smtp_server.handler.replies = ["hang"]
    event_ingest(event_type="order.shipped", recipients=["buyer-1"], data={"order_id": "D"})
    wait_for(smtp_server.handler.entered.is_set, what="the worker to reach the SMTP server")
    assert Delivery.objects.get().status == DeliveryStatus.SENDING
    first_worker.kill()
    smtp_server.handler.release.set()

    # Nothing happens until the lease runs out; make it run out now instead of sleeping.
    assert sweep()["expired_leases"] == 0
    Delivery.objects.update(lease_expires_at="2000-01-01T00:00:00Z")
    start_worker()
    assert sweep()["expired_leases"] == 1
    delivery = wait_for(delivery_in("sent"), what="the recovered delivery to be sent")
    assert delivery.attempts == 2
    assert [a.outcome for a in delivery.attempt_log.all()] == ["transient", "sent"]
    assert len(smtp_server.messages) == 1


def test_dispatching_again_through_the_worker_sends_nothing_twice(setup_rule, start_worker,
                                                                   smtp_server):
    from notifications.services.events import event_ingest

    start_worker()
    event, _ = event_ingest(event_type="order.shipped", recipients=["buyer-1"],
                            data={"order_id": "E"})
    wait_for(delivery_in("sent"), what="the first send")
    event_dispatch_again(event=event)
    wait_for(lambda: Event.objects.filter(pk=event.pk, status="processed",
                                          processed_at__gt=event.created_at).exists(),
             what="the event to be processed again")
    wait_for(lambda: Event.objects.get(pk=event.pk).status == "processed", what="processing")
    assert Delivery.objects.count() == 1 and len(smtp_server.messages) == 1
