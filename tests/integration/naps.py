"""A task that takes its time, for tests that need a message in flight (taken by a worker,
not yet acknowledged) at a chosen moment. Loaded only with ``worker --include``."""

from __future__ import annotations

import time

from celery import shared_task


@shared_task(name="clarion_test.nap", acks_late=True)
def nap(seconds: float) -> None:
    time.sleep(seconds)
