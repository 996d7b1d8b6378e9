"""The embedded default across processes: what ``manage.py notify`` and beat create arrives live.

Everything runs as ``make run`` runs it — SQLite, no Redis, eager tasks — but
in real processes: two uvicorn web servers, the ``notify`` command, and
``celery beat`` executing the scheduled-event task. The only link between
them is the shared live feed beside the database.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta

from websockets.sync.client import connect

from tests.processes import Process, WebServer, manage


def next_created(socket, timeout: float) -> dict:
    """The next ``notification.created`` frame (other frames are skipped)."""
    while True:
        frame = json.loads(socket.recv(timeout=timeout))
        if frame["type"] == "notification.created":
            return frame["notification"]


def test_notify_command_and_beat_reach_open_pages_on_two_web_processes(embedded, tmp_path):
    env, secret, start = embedded
    web_a = start(WebServer(env, tmp_path / "web-a.log"))
    web_b = start(WebServer(env, tmp_path / "web-b.log"))
    token = web_a.post("/api/subscribers/demo-user/inbox-token", {}, secret)["token"]
    with connect(f"{web_a.ws_url}/ws/inbox/?token={token}") as page_a, \
            connect(f"{web_b.ws_url}/ws/inbox/?token={token}") as page_b:
        for page in (page_a, page_b):
            assert json.loads(page.recv(timeout=5))["type"] == "hello"

        # Another process: the command-line trigger.
        manage(env, "notify", "order.shipped", "--to", "demo-user",
               "--data", '{"order_id": "CLI-1", "carrier": "DHL"}')
        for page in (page_a, page_b):
            assert next_created(page, timeout=2)["title"] == "Order CLI-1 has shipped"

        # Beat's periodic work: a scheduled event, processed by beat itself (eager tasks).
        send_at = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
        manage(env, "notify", "order.shipped", "--to", "demo-user", "--send-at", send_at,
               "--data", '{"order_id": "BEAT-1", "carrier": "UPS"}')
        start(Process([sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO",
                       "--pidfile=", f"--schedule={tmp_path / 'beat-schedule'}"], env,
                      tmp_path / "beat.log"))
        # Beat checks for due events every 5 s; the message then crosses within the poll interval.
        for page in (page_a, page_b):
            assert next_created(page, timeout=20)["title"] == "Order BEAT-1 has shipped"
