"""Shared by the broadcast benchmarks: the production shape (PostgreSQL, Redis, a real
``celery worker -c 2``), audiences written with COPY, and waiting for a broadcast to finish.

Run against a database of the benchmark's own, e.g.
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/clarion_bench REDIS_URL=redis://127.0.0.1:6379/0``;
it is migrated on start and its notification tables are emptied before each size.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
if not (os.environ.get("DATABASE_URL", "").startswith("postgres") and os.environ.get("REDIS_URL")):
    sys.exit("Set DATABASE_URL (PostgreSQL) and REDIS_URL: the benchmarks run on the production shape.")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-0123456789abcdef")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
# Queues of this run's own, so no other worker takes its tasks.
os.environ.setdefault("CELERY_QUEUE", f"bench-{uuid.uuid4().hex[:6]}")
os.environ.setdefault("LIVE_CHANNEL_PREFIX", f"bench{uuid.uuid4().hex[:6]}")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

TABLES = ["inbox_notification", "notifications_deliveryattempt", "notifications_delivery",
          "notifications_digestitem", "notifications_digestbatch", "notifications_event",
          "notifications_recipientgroup_members", "notifications_grouptarget",
          "notifications_recipientgroup", "inbox_preference", "inbox_quiethours",
          "notifications_subscriber"]


def migrate() -> None:
    call_command("migrate", verbosity=0, interactive=False)


def reset() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} CASCADE")


def audience_create(size: int, *, group: str = "everyone") -> int:
    """``size`` subscribers (with e-mail addresses) in one group, written with COPY; the group id."""
    from notifications.models import RecipientGroup, default_directory_id

    directory_id = default_directory_id()
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM notifications_subscriber")
        start = cursor.fetchone()[0] + 1
        with cursor.copy("COPY notifications_subscriber (directory_id, external_id, email, phone, "
                         "first_name, last_name, locale, timezone, channel_addresses, data, "
                         "email_undeliverable_reason, created_at, updated_at) FROM STDIN") as copy:
            for i in range(start, start + size):
                copy.write_row((directory_id, f"user-{i}", f"user-{i}@example.com", "",
                                f"Name{i}", "", "", "", "{}", "{}", "", "now", "now"))
        created = RecipientGroup.objects.create(name=f"{group}-{uuid.uuid4().hex[:6]}")
        cursor.execute("INSERT INTO notifications_recipientgroup_members (recipientgroup_id, "
                       "subscriber_id) SELECT %s, id FROM notifications_subscriber WHERE id >= %s",
                       [created.pk, start])
        cursor.execute("ANALYZE")
    return created.pk


def announce_rule(group_id: int, channels: list[str], **template):
    """The only rule: event ``announce`` to the group on ``channels``, with a template of
    ``template``'s fields (on the first channel) when given."""
    from notifications.models import MessageTemplate, Rule

    Rule.objects.all().delete()
    rule = Rule.objects.create(name="announce", event_type="announce", channels=channels,
                               audience="groups")
    rule.groups.add(group_id)
    if template:
        MessageTemplate.objects.create(rule=rule, channel=channels[0], **template)
    return rule


def api_secret() -> str:
    """A new key with ``events:write`` for the benchmark's application; its secret."""
    from notifications.models import Application
    from notifications.services.api_keys import api_key_create

    application = Application.objects.get_or_create(name="bench")[0]
    return api_key_create(application=application, name=f"bench-{uuid.uuid4().hex[:6]}",
                          scopes=["events:write"]).secret


class Worker:
    """``celery worker`` as deployed: its own process, two pool processes, all lanes."""

    def __init__(self, concurrency: int = 2, **env: str):
        self.log = Path(tempfile.gettempdir()) / f"clarion-bench-worker-{uuid.uuid4().hex[:6]}.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", f"-c{concurrency}",
             f"--loglevel={os.environ.get('BENCH_WORKER_LOGLEVEL', 'WARNING')}",
             "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-n", f"bench-{uuid.uuid4().hex[:6]}@%h"],
            cwd=ROOT, env={**os.environ, **env}, stdout=self.log.open("w"),
            stderr=subprocess.STDOUT, start_new_session=True)
        time.sleep(4)  # the pool's processes import Django

    def rss_kb(self) -> int:
        """Resident memory of the worker and its pool processes together."""
        pids = [str(self.process.pid)] + subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout.split()
        total = 0
        for pid in pids:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except FileNotFoundError:
                pass
        return total

    def stop(self) -> None:
        print(f"worker log: {self.log}", file=sys.stderr)
        import signal

        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)


class RssSampler:
    """The worker's resident memory (all its processes), sampled every half second while
    the block runs: ``with RssSampler(worker) as rss: …`` then ``rss.idle_mb``, ``rss.peak_mb``."""

    def __init__(self, worker: Worker, every: float = 0.5):
        self.worker, self.every = worker, every
        self.idle_mb = self.peak_mb = 0.0
        self._stop = threading.Event()

    def __enter__(self) -> RssSampler:
        self.idle_mb = self.peak_mb = self.worker.rss_kb() / 1024
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self.every):
            self.peak_mb = max(self.peak_mb, self.worker.rss_kb() / 1024)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def twin_tables_create(cursor, tables: list[str], *, foreign_keys: bool) -> None:
    """``bench_<table>`` for each table: same columns, defaults, indexes and checks
    (``LIKE … INCLUDING ALL``) and, with ``foreign_keys``, the same foreign keys too —
    ``LIKE`` leaves those out, yet PostgreSQL checks each of them once per row written
    (a reference between two twinned tables points at the twin)."""
    for table in tables:
        cursor.execute(f"DROP TABLE IF EXISTS bench_{table} CASCADE")
        cursor.execute(f"CREATE TABLE bench_{table} (LIKE {table} INCLUDING ALL)")
    if not foreign_keys:
        return
    for table in tables:
        cursor.execute("SELECT conname, pg_get_constraintdef(oid), confrelid::regclass::text "
                       "FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
                       [table])
        for name, definition, referenced in cursor.fetchall():
            if referenced in tables:
                definition = definition.replace(f"REFERENCES {referenced}(",
                                                f"REFERENCES bench_{referenced}(")
            cursor.execute(f"ALTER TABLE bench_{table} ADD CONSTRAINT bench_{name} {definition}")


def twin_tables_drop(cursor, tables: list[str]) -> None:
    for table in tables:
        cursor.execute(f"DROP TABLE IF EXISTS bench_{table} CASCADE")


def unfinished(event_id) -> int:
    """Deliveries of the event not yet final, or -1 while the event is still being fanned out."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT status FROM notifications_event WHERE id = %s", [event_id])
        if cursor.fetchone()[0] != "processed":
            return -1
        cursor.execute("SELECT count(*) FROM notifications_delivery WHERE event_id = %s "
                       "AND status IN ('queued', 'sending')", [event_id])
        return cursor.fetchone()[0]


def wait_finished(event_id, *, timeout: float, poll: float = 0.25) -> float:
    """Wait until every delivery of the event is final; return the moment (monotonic)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if unfinished(event_id) == 0:
            return time.monotonic()
        time.sleep(poll)
    raise SystemExit(f"event {event_id} not finished after {timeout} s "
                     f"({unfinished(event_id)} deliveries left)")


def ratio(clarion_per_s: float, peer_per_s: float) -> str:
    return f"{clarion_per_s / peer_per_s:.2f}x"
