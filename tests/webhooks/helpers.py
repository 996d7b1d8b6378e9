"""Helpers shared by the webhooks tests: trigger an event through the real pipeline, verify."""

from __future__ import annotations

import standardwebhooks
import svix.webhooks

from notifications.models import Application, Delivery, Event
from notifications.services.events import event_ingest
from notifications.services.sweeper import sweep
from tests.webhooks.receiver import Received


def trigger(capture, *, application: Application | None, event_type: str = "order.shipped",
            data: dict | None = None) -> Event:
    """Ingest an event and run the pipeline to the end, as the API would (tasks are eager)."""
    with capture(execute=True):
        event, _ = event_ingest(event_type=event_type, recipients=[],
                                data={"order_id": "A-1"} if data is None else data,
                                application=application)
    event.refresh_from_db()
    return event


def run_due_retries(capture) -> None:
    """Make every waiting delivery due now and run what beat runs (no sleeping)."""
    Delivery.objects.filter(status="queued").update(next_attempt_at="2000-01-01T00:00:00Z")
    with capture(execute=True):
        sweep()


def verify_with_both_libraries(secret: str, request: Received) -> object:
    """Verify a received request as integrators do; return the parsed payload."""
    svix.webhooks.Webhook(secret).verify(request.body, request.headers)
    return standardwebhooks.Webhook(secret).verify(request.body, request.headers)
