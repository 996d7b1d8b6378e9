"""The worker's broker consumer, made to survive a failure of kombu's Redis transport on
connection loss.

When the connection to Redis is lost, Celery's consumer first *collects* the connection
(closing its default channel and detaching the transport from it) and then closes it
again. The second close closes the default channel once more; if that channel still
holds unacknowledged messages it tries to restore them, and finds a transport without a
client: kombu raises ``AttributeError: 'NoneType' object has no attribute 'hostname'``
instead of a connection error. Celery tolerates only connection errors there, so the
worker logged "Unrecoverable error" and exited, and nothing was processed until someone
restarted it (seen in one of three Redis outages; ``tests/integration/
test_broker_outage.py`` hit it again under load).

At that point the connection is already gone and detached; what the failed restore would
have done is done anyway: messages a worker took but never acknowledged stay in Redis and
come back after the transport's visibility timeout, and whatever an emptied Redis lost is
handed over again by Clarion's sweeps (``docs/reliability.md``). So this consumer treats
that one failure as the connection loss it is, and reconnects. The only step Celery takes
after that close, cancelling long-running tasks, is off in Clarion
(``worker_cancel_long_running_tasks_on_connection_loss``).
"""

from __future__ import annotations

import logging

from celery.worker.consumer import Consumer

logger = logging.getLogger(__name__)


class BrokerLossTolerantConsumer(Consumer):
    def on_connection_error_after_connected(self, exc):
        try:
            super().on_connection_error_after_connected(exc)
        except AttributeError as closing_failed:
            logger.warning("closing the lost broker connection failed inside kombu (%s); "
                           "reconnecting anyway", closing_failed)
