"""A channel layer that reaches every process on one machine with no server: the embedded default.

Channels' in-memory layer only reaches sockets held by the process that sends,
so a notification created by ``manage.py notify`` or by beat never arrived
live. This layer carries every group message through a small SQLite file that
all processes of one installation share (``LIVE_FEED_PATH``, WAL mode):
``group_send`` appends a row, and each process that holds sockets polls the
file (every ``poll_interval`` seconds) and hands the rows it has not seen to
its own sockets.

Why a file and not a socket between processes: nothing to install or to start
first, any number of web processes and senders, and a row is on disk before
the sender returns, so a command that exits at once loses nothing. Rows are
kept for ``retention`` seconds; a client away longer catches up from the inbox
itself (``last_id``).

Local state (channels and groups) lives in this process only, as in the
in-memory layer; only group messages cross processes, which is all Clarion
sends.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from channels.layers import BaseChannelLayer

from inbox.live.sinks import DirectSinks, Sink

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS live_feed (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, so a reader's cursor stays valid
    created REAL NOT NULL,
    grp TEXT NOT NULL,
    message TEXT NOT NULL
)
"""


class SqliteFeedChannelLayer(BaseChannelLayer):
    """Group messages through a shared SQLite file; channels and groups local to the process."""

    extensions = ["groups", "flush"]

    def __init__(self, path: str | os.PathLike, poll_interval: float = 0.05, retention: float = 60,
                 capacity: int = 1000, **kwargs: Any) -> None:
        super().__init__(capacity=capacity, **kwargs)
        self.path = Path(path)
        self.poll_interval = poll_interval
        self.retention = retention
        self.channels: dict[str, asyncio.Queue] = {}
        # group → {channel: the feed row that was last when it joined}; a member gets only rows
        # appended after it joined, as a pub/sub subscriber would.
        self.groups: dict[str, dict[str, int]] = {}
        self.sinks = DirectSinks()
        self._local = threading.local()  # one SQLite connection per thread
        self._poller: asyncio.Task | None = None
        self._cursor: int | None = None  # the last feed row this process has read
        self._next_prune = 0.0

    # --- the shared file -------------------------------------------------------------
    def _db(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None or getattr(self._local, "pid", None) != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            # A reader on another process sees a row once it is committed; durability across a
            # power cut is not needed for messages that live a minute.
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(_SCHEMA)
            self._local.connection, self._local.pid = connection, os.getpid()
        return connection

    def _append(self, messages: list[tuple[str, dict]]) -> None:
        now = time.time()
        rows = [(now, group, json.dumps(message, separators=(",", ":"))) for group, message in messages]
        db = self._db()
        with db:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT INTO live_feed (created, grp, message) VALUES (?, ?, ?)", rows)
            if now >= self._next_prune:
                db.execute("DELETE FROM live_feed WHERE created < ?", (now - self.retention,))
                self._next_prune = now + self.retention / 4

    def _latest_id(self) -> int:
        return self._db().execute("SELECT COALESCE(MAX(id), 0) FROM live_feed").fetchone()[0]

    def _read_after(self, cursor: int, limit: int = 2000) -> list[tuple[int, str, str]]:
        return self._db().execute(
            "SELECT id, grp, message FROM live_feed WHERE id > ? ORDER BY id LIMIT ?",
            (cursor, limit)).fetchall()

    # --- channel layer API -----------------------------------------------------------
    async def new_channel(self, prefix: str = "specific.") -> str:
        name = f"{prefix}{uuid.uuid4().hex}"
        self.channels[name] = asyncio.Queue(maxsize=self.get_capacity(name))
        return name

    async def send(self, channel: str, message: dict) -> None:
        self.require_valid_channel_name(channel)
        self._put(channel, message)

    async def receive(self, channel: str) -> dict:
        self.require_valid_channel_name(channel)
        queue = self.channels.setdefault(channel, asyncio.Queue(maxsize=self.get_capacity(channel)))
        self._ensure_poller()
        try:
            return await queue.get()
        except asyncio.CancelledError:
            # Channels cancels a consumer's receive when its socket closes: forget the channel.
            self.channels.pop(channel, None)
            for group in list(self.groups):
                self.groups[group].pop(channel, None)
                if not self.groups[group]:
                    del self.groups[group]
            raise

    async def group_add(self, group: str, channel: str) -> None:
        self.require_valid_group_name(group)
        self.require_valid_channel_name(channel)
        self._ensure_poller()
        self.groups.setdefault(group, {})[channel] = self._latest_id()

    async def group_discard(self, group: str, channel: str) -> None:
        members = self.groups.get(group)
        if members is not None:
            members.pop(channel, None)
            if not members:
                del self.groups[group]

    async def sink_add(self, group: str, sink: Sink) -> None:
        """Let ``sink`` take the group's messages directly (``inbox.live.sinks``)."""
        self._ensure_poller()
        self.sinks.add(group, sink, joined_at=self._latest_id())

    async def sink_discard(self, group: str, sink: Sink) -> None:
        self.sinks.discard(group, sink)

    async def group_send(self, group: str, message: dict) -> None:
        self.require_valid_group_name(group)
        await self.group_send_many([(group, message)])

    async def group_send_many(self, messages: list[tuple[str, dict]]) -> None:
        """Append a batch of group messages in one transaction (one write for a whole batch)."""
        if messages:
            self._append(messages)

    async def flush(self) -> None:
        self.channels, self.groups, self._cursor = {}, {}, None
        self.sinks = DirectSinks()
        if self._poller is not None:
            self._poller.cancel()
            self._poller = None

    # --- this process's side -----------------------------------------------------------
    def _put(self, channel: str, message: dict) -> None:
        queue = self.channels.get(channel)
        if queue is None:
            return
        try:
            queue.put_nowait(message)
        except asyncio.QueueFull:
            # A socket this far behind is stuck; it catches up by last_id when it reconnects.
            logger.warning("live channel %s is full; message dropped", channel)

    def _ensure_poller(self) -> None:
        if self._cursor is None:
            # Taken at the first group_add, before it returns, so every message sent after a
            # socket joined is read; kept on the layer so a poller on a new loop resumes there.
            self._cursor = self._latest_id()
        loop = asyncio.get_running_loop()
        if self._poller is None or self._poller.done() or self._poller.get_loop() is not loop:
            self._poller = loop.create_task(self._poll(), name="live-feed-poller")

    async def _poll(self) -> None:
        # Runs while this process has members; the next group_add or sink_add starts it again,
        # from the same cursor, and members only ever get rows written after they joined.
        while self.groups or self.sinks.groups:
            try:
                rows = self._read_after(self._cursor or 0)
            except sqlite3.Error:
                logger.exception("reading the live feed %s failed", self.path)
                rows = []
            frames = []
            for row_id, group, message in rows:
                self._cursor = row_id
                members = self.groups.get(group)
                if members or self.sinks.wants(group):
                    decoded = json.loads(message)
                    for channel, joined_at in list((members or {}).items()):
                        if row_id > joined_at:
                            self._put(channel, decoded)
                    if self.sinks.wants(group) and "text" in decoded:
                        frames.append((group, decoded["text"], row_id))
            self.sinks.deliver(frames)
            if len(rows) < 2000:  # drained: wait for more; else read the next page at once
                await asyncio.sleep(self.poll_interval)
            else:
                await asyncio.sleep(0)
