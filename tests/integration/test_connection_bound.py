"""One web process holds at most ``DATABASE_POOL_MAX_SIZE`` PostgreSQL connections, whatever the load.

A real uvicorn process, 32 clients at once reading and writing through the API;
the server's connections are counted in ``pg_stat_activity`` throughout.
Requests beyond the pool's size wait for a connection instead of opening one,
so none is answered with a server error.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from tests.factories import RuleFactory, SubscriberFactory, make_api_key
from tests.integration.conftest import _database_url
from tests.processes import WebServer, environment

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

POOL_SIZE, CLIENTS, REQUESTS = 4, 32, 480


def _request(server: WebServer, secret: str, number: int) -> int:
    if number % 3 == 0:
        body = json.dumps({"event": "nothing.to.send", "data": {"n": number}}).encode()
        request = urllib.request.Request(f"{server.url}/api/events", data=body, method="POST")
        request.add_header("Content-Type", "application/json")
    else:
        request = urllib.request.Request(f"{server.url}/api/subscribers?page={number % 2 + 1}")
    request.add_header("Authorization", f"Bearer {secret}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 — local server
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_web_process_never_holds_more_connections_than_its_pool(settings, tmp_path):
    for n in range(120):
        SubscriberFactory(external_id=f"person-{n}")
    RuleFactory(event_type="something.else")
    _, secret = make_api_key()
    # The server names itself, so only its own connections are counted (other tests' processes
    # may still be closing theirs).
    name = f"pool-test-{uuid.uuid4().hex[:8]}"
    env = environment(DATABASE_URL=f"{_database_url()}?application_name={name}",
                      SECRET_KEY=settings.SECRET_KEY, CELERY_TASK_ALWAYS_EAGER="true", EMAIL_URL="console://",
                      DATABASE_POOL_MAX_SIZE=str(POOL_SIZE))
    server = WebServer(env, tmp_path / "web.log").start()
    peak, done = 0, threading.Event()

    def count_connections() -> None:
        nonlocal peak
        with psycopg.connect(_database_url(), autocommit=True) as watcher:
            while not done.is_set():
                held = watcher.execute("SELECT count(*) FROM pg_stat_activity "
                                       "WHERE application_name = %s", [name]).fetchone()[0]
                peak = max(peak, held)
                done.wait(0.02)

    watcher = threading.Thread(target=count_connections)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=CLIENTS) as clients:
            statuses = list(clients.map(lambda n: _request(server, secret, n), range(REQUESTS)))
    finally:
        done.set()
        watcher.join()
        server.stop()
    assert sorted(set(statuses)) == [200, 202], {s: statuses.count(s) for s in set(statuses)}
    assert 1 <= peak <= POOL_SIZE, f"the server held {peak} connections; its pool has {POOL_SIZE}"
