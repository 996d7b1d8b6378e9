"""Fixtures for the inbox tests: a real ASGI server on a free port and a clean channel layer.

``asgi_live_server`` serves ``config.asgi.application`` (HTTP and WebSockets)
with uvicorn in a background thread, so tests can drive it with real clients
(urllib, the ``websockets`` package, a browser). It uses the transactional
database because the server's threads must see what the test commits.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from tests.processes import Process, environment, manage, minted_secret

_STARTUP_TIMEOUT = 10.0


def _flush_channel_layer() -> None:
    layer = get_channel_layer()
    if layer is not None and hasattr(layer, "flush"):
        async_to_sync(layer.flush)()


@pytest.fixture
def fresh_channel_layer() -> Iterator[None]:
    """Empty the (in-memory) channel layer around a test.

    The layer is one object per process; group memberships left behind by one
    test would otherwise receive the next test's messages (database ids, and
    so group names, repeat after a flush).
    """
    _flush_channel_layer()
    yield
    _flush_channel_layer()


class GroupListener:
    """A channel-layer channel in ``group``, served by an event loop of its own in a thread.

    Layers keep their connections per event loop (Redis pub/sub subscribes on the
    loop that joined), so joining and receiving must happen on one loop that
    lives for the whole test, not on a fresh loop per ``async_to_sync`` call.
    """

    def __init__(self, group: str):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.layer = get_channel_layer()
        self.group = group
        self.channel = self._run(self._join())

    def _run(self, coroutine, timeout: float = 5):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def _join(self) -> str:
        channel = await self.layer.new_channel()
        await self.layer.group_add(self.group, channel)
        return channel

    def receive(self, timeout: float = 2) -> dict:
        return self._run(asyncio.wait_for(self.layer.receive(self.channel), timeout), timeout + 1)

    def close(self) -> None:
        self._run(self.layer.group_discard(self.group, self.channel))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def group_listener() -> Iterator:
    """Return a function that joins a group; every listener is closed after the test."""
    listeners: list[GroupListener] = []

    def listen(group: str) -> GroupListener:
        listeners.append(GroupListener(group))
        return listeners[-1]

    yield listen
    for listener in listeners:
        listener.close()


@pytest.fixture
def asgi_live_server(transactional_db, fresh_channel_layer) -> Iterator[str]:
    """Serve the whole ASGI application on 127.0.0.1; yield its base URL (``http://127.0.0.1:<port>``)."""
    from config.asgi import application

    # Binding here (port 0) and handing the socket to uvicorn leaves no window
    # in which another process could take the port.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=port, lifespan="off",
                                           log_level="warning", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]},
                              name=f"asgi-live-server-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + _STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            pytest.fail("the ASGI live server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=_STARTUP_TIMEOUT)
        listener.close()


@pytest.fixture
def embedded(tmp_path):
    """A fresh embedded installation in ``tmp_path``: migrated, demo loaded, an API key minted."""
    env = environment(CLARION_VAR_DIR=str(tmp_path / "var"))
    manage(env, "migrate", "--no-input", "-v0")
    manage(env, "load_demo")
    secret = minted_secret(manage(env, "create_api_key", "--application", "demo", "--scopes", "all"))
    processes: list[Process] = []

    def start(process: Process) -> Process:
        processes.append(process)
        return process.start()

    yield env, secret, start
    for process in processes:
        process.stop()
