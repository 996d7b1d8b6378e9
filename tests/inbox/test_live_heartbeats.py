"""Dead clients are noticed by the transports' heartbeats and their push registrations dropped.

A "dead" client here is a real TCP connection that finished its WebSocket
handshake (and, for Socket.IO, registered) and then went silent: it never
answers a ping, as a laptop that lost its network does not. The server runs as
its own uvicorn process with short heartbeat settings so the test takes
seconds, not the production minute.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import time

import pytest

from tests.processes import WebServer, environment, manage, minted_secret


def silent_websocket(port: int, path: str, frames: list[str]) -> socket.socket:
    """Open a WebSocket with a bare socket, send ``frames`` (text), then never read or answer."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    connection.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    response = b""
    while b"\r\n\r\n" not in response:
        response += connection.recv(4096)
    assert response.startswith(b"HTTP/1.1 101"), response
    for text in frames:
        payload, mask = text.encode(), os.urandom(4)
        header = struct.pack("!BB", 0x81, 0x80 | len(payload))  # FIN + text, masked, < 126 bytes
        connection.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
        time.sleep(0.3)  # let the server act on it before the next one
    return connection


def registered_connections(server: WebServer, secret: str, user: str) -> int:
    return server.post(f"/api/{user}/push", {"message": "anyone?"}, secret, "X-AUTH-TOKEN")[
        "registered_connections"]


@pytest.fixture
def server_with_short_heartbeats(tmp_path):
    env = environment(CLARION_VAR_DIR=str(tmp_path / "var"), SOCKETIO_PING_INTERVAL_SECONDS="1",
                      SOCKETIO_PING_TIMEOUT_SECONDS="1", PUSH_RECONNECT_GRACE_SECONDS="0")
    manage(env, "migrate", "--no-input", "-v0")
    secret = minted_secret(manage(env, "create_api_key", "--application", "beats",
                                  "--create-application", "--scopes", "push"))
    server = WebServer(env, tmp_path / "web.log", "--ws-ping-interval", "1",
                       "--ws-ping-timeout", "1").start()
    yield server, secret
    server.stop()


def wait_for_zero(server: WebServer, secret: str, user: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < 15:
        if registered_connections(server, secret, user) == 0:
            return time.monotonic() - started
        time.sleep(0.25)
    pytest.fail(f"{user}'s dead socket was still counted after 15 s")


def test_a_silent_websocket_client_is_dropped_by_the_ping(server_with_short_heartbeats):
    server, secret = server_with_short_heartbeats
    server.put_register("ws-user", "c-1", secret)
    dead = silent_websocket(server.port, "/ws/push/?userId=ws-user&connectionId=c-1", [])
    time.sleep(0.5)
    assert registered_connections(server, secret, "ws-user") == 1  # alive while it answers nothing yet
    wait_for_zero(server, secret, "ws-user")
    dead.close()


def test_a_silent_socketio_client_is_dropped_by_the_engine_io_ping(server_with_short_heartbeats):
    server, secret = server_with_short_heartbeats
    server.put_register("sio-user", "c-2", secret)
    register = "42" + json.dumps(["register", "sio-user", "c-2"])
    dead = silent_websocket(server.port, "/socket.io/?EIO=4&transport=websocket", ["40", register])
    time.sleep(0.3)
    assert registered_connections(server, secret, "sio-user") == 1
    wait_for_zero(server, secret, "sio-user")
    dead.close()
