"""E-mail broadcast: one event to a group, sent over SMTP by a real worker, beside a plain
``smtplib`` loop sending the same messages, pre-rendered, over one connection.

Both talk to the same local SMTP server (``bench/smtp_sink.py``, aiosmtpd, its
own process), which accepts and drops every message.

* Clarion: ``POST /api/events`` (Django's handler, in this process) → a real
  ``celery worker -c 2`` claims batches of ``DELIVERY_BATCH_SIZE``, renders each
  message (subject, text and HTML, greeting each subscriber by name), sends
  the batch over one SMTP session and records it; timed until the last
  delivery is final.
* ``smtplib``: the same number of messages, built beforehand with the same
  parts and headers, sent with ``SMTP.send_message`` one after another.

Usage: ``bench/broadcast_email.py [SIZE ...]`` (default 10000).
"""

from __future__ import annotations

import json
import smtplib
import subprocess
import sys
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

from broadcast_common import (
    ROOT,
    Worker,
    announce_rule,
    api_secret,
    audience_create,
    migrate,
    ratio,
    reset,
    wait_finished,
)
from django.test import Client

sys.path.insert(0, str(Path(__file__).parent))
from live_common import free_port  # noqa: E402

SUBJECT = "News: {{ data.text }}"
TEXT = "Hello {{ subscriber.first_name }},\n\n{{ data.text }}.\n\n— The team"
HTML = "<p>Hello {{ subscriber.first_name }},</p><p>{{ data.text }}.</p>"


def setup(size: int) -> str:
    reset()
    group_id = audience_create(size)
    announce_rule(group_id, ["email"], subject=SUBJECT, text_body=TEXT, html_body=HTML)
    return api_secret()


def clarion(size: int, port: int) -> float:
    secret = setup(size)
    worker = Worker(EMAIL_URL=f"smtp://127.0.0.1:{port}")
    try:
        started = time.monotonic()
        response = Client().post("/api/events", data=json.dumps(
            {"event": "announce", "data": {"text": "Maintenance tonight"}}),
            content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}",
            HTTP_HOST="127.0.0.1", secure=True)
        assert response.status_code == 202, response.content
        finished = wait_finished(response.json()["id"], timeout=3600)
    finally:
        worker.stop()
    from notifications.models import Delivery

    statuses = dict(Delivery.objects.values_list("status").annotate(
        n=__import__("django.db.models", fromlist=["Count"]).Count("id")))
    assert statuses == {"sent": size}, statuses
    return finished - started


def smtplib_loop(size: int, port: int) -> float:
    messages = []
    for i in range(size):
        message = EmailMessage()
        message["Subject"] = "News: Maintenance tonight"
        message["From"] = "Clarion <clarion@localhost>"
        message["To"] = f"user-{i}@example.com"
        message["Message-ID"] = f"<{uuid.uuid4()}@clarion.localhost>"
        message.set_content(f"Hello Name{i},\n\nMaintenance tonight.\n\n— The team")
        message.add_alternative(f"<p>Hello Name{i},</p><p>Maintenance tonight.</p>",
                                subtype="html")
        messages.append(message)
    started = time.monotonic()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for message in messages:
            connection.send_message(message)
    return time.monotonic() - started


def main(sizes: list[int]) -> None:
    migrate()
    port = free_port()
    sink = subprocess.Popen([sys.executable, str(ROOT / "bench" / "smtp_sink.py"), str(port)],
                            stdout=subprocess.PIPE, text=True)
    assert sink.stdout.readline().strip() == "ready"
    try:
        print(f"{'messages':>10} {'Clarion s':>10} {'msg/s':>8} {'smtplib s':>10} {'msg/s':>8} "
              f"{'ratio':>7}")
        for size in sizes:
            clarion_s = clarion(size, port)
            loop_s = smtplib_loop(size, port)
            print(f"{size:>10} {clarion_s:>10.1f} {size / clarion_s:>8.0f} {loop_s:>10.1f} "
                  f"{size / loop_s:>8.0f} {ratio(size / clarion_s, size / loop_s):>7}", flush=True)
    finally:
        sink.terminate()


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [10_000])
