"""A real Celery worker process against the test's PostgreSQL database and Redis."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from tests.processes import Process, free_port

ROOT = Path(__file__).resolve().parents[2]


def wait_for(predicate, *, timeout: float = 30, interval: float = 0.1, what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy; fail with ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


def _database_url() -> str:
    db = connection.settings_dict  # points at the test database once pytest-django set it up
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker(Process):
    """``celery worker`` in its own process group, so it can be killed like a crashed host."""

    def __init__(self, env: dict[str, str], log: Path):
        super().__init__([sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
                          "--loglevel=INFO", "--without-gossip", "--without-mingle",
                          "--without-heartbeat", "-n", f"test-{uuid.uuid4().hex[:6]}@%h"], env, log)

    def start(self) -> Worker:
        self.log.write_text("")
        super().start()
        wait_for(lambda: " ready." in self.log.read_text() or self.process.poll() is not None,
                 what="the Celery worker to start")
        if self.process.poll() is not None:
            pytest.fail(f"worker exited at start:\n{self.log.read_text()[-3000:]}")
        return self


@pytest.fixture
def celery_queue(settings):
    """A queue of this test's own, so no other run's messages reach its worker."""
    from config.celery import app

    queue = f"test-{uuid.uuid4().hex[:8]}"
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    yield queue
    app.conf.task_default_queue = previous
    app.conf.task_always_eager = True


@pytest.fixture
def start_worker(celery_queue, smtp_server, settings, tmp_path):
    """Return a function that starts a worker with extra environment; all are stopped after."""
    workers: list[Worker] = []

    def start(**extra_env: str) -> Worker:
        env = {**os.environ, "DATABASE_URL": _database_url(), "REDIS_URL": settings.REDIS_URL,
               "CELERY_QUEUE": celery_queue, "CELERY_TASK_ALWAYS_EAGER": "false",
               "EMAIL_URL": f"smtp://127.0.0.1:{smtp_server.port}",
               # The same key as this process: stored secrets are encrypted under it.
               "SECRET_KEY": settings.SECRET_KEY,
               "DJANGO_SETTINGS_MODULE": "config.settings", **extra_env}
        env.pop("ANYMAIL_ESP", None)
        worker = Worker(env, tmp_path / f"worker-{len(workers)}.log").start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def private_redis(tmp_path):
    """A Redis server of this test's own, so the test can stop and restart it."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is needed to test a Redis restart")
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", str(tmp_path)]

    class Server:
        url = f"redis://127.0.0.1:{port}/0"
        process = None

        def start(self):
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
            for _ in range(50):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    return
                except OSError:
                    time.sleep(0.1)
            pytest.fail("the private Redis did not start")

        def stop(self):
            self.process.kill()
            self.process.wait(5)

    server = Server()
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()
