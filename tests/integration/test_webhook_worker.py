"""End to end with real parts: PostgreSQL → Redis → Celery worker → a local webhook receiver."""

from __future__ import annotations

import pytest
import standardwebhooks

from notifications.models import Delivery
from notifications.services.events import event_ingest
from notifications.services.sweeper import sweep
from tests.factories import ApplicationFactory
from tests.integration.conftest import wait_for
from tests.webhooks.factories import webhook_rule
from tests.webhooks.receiver import Receiver, Reply
from webhooks.models import WebhookAttempt
from webhooks.services.endpoints import endpoint_create

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
WORKER_ENV = {"OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8", "WEBHOOK_REQUIRE_HTTPS": "false"}


@pytest.fixture
def receiver(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.WEBHOOK_REQUIRE_HTTPS = False
    with Receiver() as running:
        yield running


def test_worker_delivers_a_signed_webhook_and_retries_with_the_same_id(receiver, start_worker):
    start_worker(**WORKER_ENV)
    webhook_rule(event_type="order.*")
    created = endpoint_create(application=ApplicationFactory(), url=receiver.url,
                              event_types=["order.*"])
    receiver.script(Reply(503, body=b"try later"))

    event_ingest(event_type="order.shipped", recipients=[], data={"order_id": "W-1"},
                 application=created.endpoint.application)
    wait_for(lambda: WebhookAttempt.objects.filter(outcome="failed").exists(),
             what="the first, failed attempt")
    delivery = wait_for(lambda: Delivery.objects.filter(status="queued", attempts=1).first(),
                        what="the retry to be scheduled in the database")
    assert delivery.next_attempt_at is not None

    # What beat does once the retry is due, without waiting the 5 s.
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at="2000-01-01T00:00:00Z")
    sweep()
    wait_for(lambda: Delivery.objects.filter(pk=delivery.pk, status="delivered").exists(),
             what="the retry to be delivered")

    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    payload = standardwebhooks.Webhook(created.secret).verify(second.body, second.headers)
    assert payload["type"] == "order.shipped" and payload["data"] == {"order_id": "W-1"}
