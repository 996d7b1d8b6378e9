"""Fixtures for the inbox tests: a real ASGI server on a free port and a clean channel layer.

``asgi_live_server`` serves ``config.asgi.application`` (HTTP and WebSockets)
with uvicorn in a background thread, so tests can drive it with real clients
(urllib, the ``websockets`` package, a browser). It uses the transactional
database because the server's threads must see what the test commits.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

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
                                           log_level="warning"))
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
