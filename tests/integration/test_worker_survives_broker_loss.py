"""A worker holding an unacknowledged message when Redis goes away reconnects by itself.

That moment has ended a worker: kombu failed to close the lost connection's channel
(``AttributeError: 'NoneType' object has no attribute 'hostname'``), Celery called it
"Unrecoverable error" and exited (config/celery_consumer.py). The failure depends on
timing and does not happen on every loss; this test holds the situation it needs (a real
worker running a slow task when Redis stops) and checks the worker takes and finishes new
work afterwards, without a restart.
"""

from __future__ import annotations

import sys

import pytest
from celery import Celery

from tests.integration.conftest import _database_url, wait_for
from tests.processes import Process, environment

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_worker_with_a_message_in_flight_survives_redis_going_away(private_redis, settings,
                                                                      tmp_path):
    queue = "broker-loss"
    env = environment(DATABASE_URL=_database_url(), REDIS_URL=private_redis.url,
                      SECRET_KEY=settings.SECRET_KEY, CELERY_QUEUE=queue,
                      CELERY_TASK_ALWAYS_EAGER="false")
    worker = Process([sys.executable, "-m", "celery", "-A", "config", "worker", "-c", "1",
                      "--include", "tests.integration.naps", "--loglevel=INFO"], env,
                     tmp_path / "worker.log").start()
    # Not the current app: later tests send through the project's own.
    sender = Celery(broker=private_redis.url, set_as_current=False)
    try:
        wait_for(lambda: " ready." in worker.output(), what="the worker to start")
        sender.send_task("clarion_test.nap", args=[3], queue=queue)
        wait_for(lambda: "clarion_test.nap" in worker.output() and "received" in worker.output(),
                 what="the worker to take the task")

        private_redis.stop()  # the task is running: its message is not acknowledged yet
        wait_for(lambda: "Connection to broker lost" in worker.output(),
                 what="the worker to notice")
        private_redis.start()

        wait_for(lambda: worker.output().count("Connected to redis://") >= 2, timeout=60,
                 what="the worker to reconnect")
        assert worker.process.poll() is None, worker.output()[-3000:]
        assert "Unrecoverable error" not in worker.output()
        sender.send_task("clarion_test.nap", args=[0], queue=queue)
        wait_for(lambda: worker.output().count("succeeded") >= 1, timeout=30,
                 what="new work to be done after the outage")
    finally:
        sender.close()
        worker.stop()
