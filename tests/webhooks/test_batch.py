"""A batch of webhook deliveries: requests in parallel within the per-host limit, a fixed
number of statements whatever the batch's size, and each outcome recorded as a lone send's."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Delivery
from notifications.services.dispatch import event_process
from notifications.services.events import event_ingest
from notifications.services.sending import deliveries_send
from tests.factories import ApplicationFactory
from tests.webhooks.factories import EndpointFactory, webhook_rule
from tests.webhooks.helpers import trigger
from tests.webhooks.receiver import Receiver, Reply
from webhooks.models import Endpoint, WebhookAttempt, WebhookMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_hosts(allow_loopback):
    with Receiver("127.0.0.1") as first, Receiver("127.0.0.2") as second:
        yield first, second


def queued_event(capture, application):
    """An event whose webhook deliveries are written and queued, not yet sent."""
    with capture(execute=False):
        event, _ = event_ingest(event_type="order.shipped", recipients=[], data={"n": 1},
                                application=application)
    with capture(execute=False):
        event_process(event_id=event.pk)
    return event


def test_a_batch_goes_out_in_parallel_never_over_the_per_host_limit(
        settings, two_hosts, django_capture_on_commit_callbacks):
    settings.OUTBOUND_PER_HOST_CONCURRENCY = 3
    busy, quiet = two_hosts
    busy.script(*[Reply(delay=0.3)] * 12)
    quiet.script(*[Reply(delay=0.3)] * 4)
    webhook_rule()
    app = ApplicationFactory()
    for _ in range(12):
        EndpointFactory(application=app, url=busy.url)
    for _ in range(4):
        EndpointFactory(application=app, url=quiet.url)
    event = trigger(django_capture_on_commit_callbacks, application=app)
    assert busy.peak_in_flight == 3  # parallel, and held to the limit however many are queued
    assert 1 < quiet.peak_in_flight <= 3  # the other host was not kept waiting behind it
    assert len(busy.requests) == 12 and len(quiet.requests) == 4
    assert set(event.deliveries.values_list("status", flat=True)) == {"delivered"}
    assert WebhookAttempt.objects.filter(outcome="succeeded").count() == 16
    assert set(WebhookMessage.objects.values_list("attempt_count", flat=True)) == {1}


def _statements_to_send(capture, application) -> int:
    event = queued_event(capture, application)
    ids = list(event.deliveries.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries, capture(execute=False):
        deliveries_send(delivery_ids=ids)
    assert set(event.deliveries.values_list("status", flat=True)) == {"delivered"}
    return len(queries)


def test_statements_per_batch_do_not_grow_with_the_batch(
        receiver, django_capture_on_commit_callbacks):
    webhook_rule()
    small, large = ApplicationFactory(), ApplicationFactory()
    for _ in range(3):
        EndpointFactory(application=small, url=receiver.url)
    for _ in range(40):
        EndpointFactory(application=large, url=receiver.url)
    few = _statements_to_send(django_capture_on_commit_callbacks, small)
    many = _statements_to_send(django_capture_on_commit_callbacks, large)
    assert many == few
    assert len(receiver.requests) == 43


def test_mixed_answers_in_one_batch_are_each_recorded_as_alone(
        allow_loopback, django_capture_on_commit_callbacks):
    webhook_rule()
    app = ApplicationFactory()
    with Receiver() as fine, Receiver() as busy, Receiver() as gone, Receiver() as broken:
        busy.script(Reply(503, headers={"Retry-After": "120"}))
        gone.script(Reply(410))
        broken.script(Reply(400, body=b"bad"))
        endpoints = {name: EndpointFactory(application=app, url=server.url, description=name)
                     for name, server in (("fine", fine), ("busy", busy), ("gone", gone),
                                          ("broken", broken))}
        event = trigger(django_capture_on_commit_callbacks, application=app)
    by_endpoint = {d.recipient_key.removeprefix("endpoint:"): d for d in event.deliveries.all()}
    state = {name: by_endpoint[str(endpoint.pk)] for name, endpoint in endpoints.items()}
    assert state["fine"].status == "delivered"
    assert state["busy"].status == "queued" and "503" in state["busy"].last_error
    wait = (state["busy"].next_attempt_at - state["busy"].updated_at).total_seconds()
    assert wait >= 119  # the receiver's Retry-After, not the schedule's 5 s
    assert state["gone"].status == "failed"
    assert state["broken"].status == "queued"  # any non-2xx but 410 is tried again
    wait = (state["broken"].next_attempt_at - state["broken"].updated_at).total_seconds()
    assert 3 <= wait <= 7  # the schedule's first retry, 5 s ± 20%
    refreshed = {e.description: e for e in Endpoint.objects.filter(application=app)}
    assert refreshed["fine"].last_success_at is not None and refreshed["fine"].failing_since is None
    assert refreshed["busy"].enabled and refreshed["busy"].failing_since is not None
    assert not refreshed["gone"].enabled and refreshed["gone"].disabled_reason == "gone"
    busy_message = WebhookMessage.objects.get(endpoint=endpoints["busy"])
    assert busy_message.status == "pending" and busy_message.next_attempt_at is not None
    attempt = WebhookAttempt.objects.get(endpoint=endpoints["busy"])
    assert attempt.status_code == 503 and attempt.next_attempt_at == busy_message.next_attempt_at
    assert "[redacted]" in attempt.request_headers["webhook-signature"]
    assert Delivery.objects.filter(event=event).count() == 4
