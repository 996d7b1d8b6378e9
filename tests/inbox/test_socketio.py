"""Socket.IO at /socket.io/ with real, unmodified clients: python-socketio and socket.io-client from npm.

The backend registers a pair over HTTP, the client connects, emits
``register(userId, connectionId)`` and must receive every push as a
``message`` event, over WebSocket and over HTTP long-polling alike.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest
import socketio

from inbox.models import PushConnection
from tests.factories import make_api_key

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parents[2]
NODE_CLIENT = Path(__file__).parent / "clients" / "socketio_client.js"
REQUIRE_SERVICES = os.environ.get("CLARION_REQUIRE_SERVICES") == "1"


@pytest.fixture
def push_key():
    key, secret = make_api_key(scopes=["push"])
    return secret


def http(base: str, method: str, path: str, secret: str, body: bytes | None = None,
         content_type: str = "application/json") -> dict:
    request = urllib.request.Request(f"{base}{path}", data=body, method=method, headers={
        "X-AUTH-TOKEN": secret, "Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 — local server
        return json.load(response)


def register(base: str, secret: str, user_id: str, connection_id: str) -> None:
    http(base, "PUT", f"/api/{user_id}/register?connectionId={connection_id}", secret)


def push(base: str, secret: str, user_id: str, message) -> dict:
    return http(base, "POST", f"/api/{user_id}/push", secret, json.dumps({"message": message}).encode())


async def python_client(base: str, transport: str, user_id: str, connection_id: str, *,
                        acknowledged: bool = True):
    """Connect python-socketio's client, register, and return it with the lists it fills."""
    client = socketio.AsyncClient(reconnection=False)
    received: list = []
    errors: list = []
    client.on("message", lambda data: received.append(data))
    client.on("error", lambda data: errors.append(data))
    await client.connect(base, transports=[transport], socketio_path="socket.io")
    if acknowledged:
        answer = await client.call("register", (user_id, connection_id), timeout=5)
    else:  # as the original clients do: no acknowledgement asked for
        answer = await client.emit("register", (user_id, connection_id))
    return client, received, errors, answer


async def close(client: socketio.AsyncClient) -> None:
    """Disconnect; over long-polling the client then waits for its pending GET, which the server
    (python-engineio) lets run to the next ping instead of answering, so do not wait for that."""
    try:
        await asyncio.wait_for(client.disconnect(), timeout=1)
    except TimeoutError:
        pass


async def until(predicate, timeout: float = 5.0):
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return predicate()


@pytest.mark.asyncio
@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_python_socketio_client_registers_and_receives_pushes(asgi_live_server, push_key, transport):
    await asyncio.to_thread(register, asgi_live_server, push_key, "alice", "c-1")
    client, received, errors, answer = await python_client(asgi_live_server, transport, "alice", "c-1")
    assert answer == {"registered": True} and client.transport() == transport
    result = await asyncio.to_thread(push, asgi_live_server, push_key, "alice", {"title": "Build passed"})
    assert result == {"registered_connections": 1}
    # The original server's form-encoded body works too.
    form = b"message[title]=Deploy&message[body]=done"
    await asyncio.to_thread(http, asgi_live_server, "POST", "/api/alice/push", push_key, form,
                            "application/x-www-form-urlencoded")
    assert await until(lambda: len(received) == 2)
    assert received == [{"title": "Build passed"}, {"title": "Deploy", "body": "done"}]
    assert errors == []
    await close(client)


@pytest.mark.asyncio
async def test_unregistered_pair_gets_an_error_is_disconnected_and_receives_nothing(
        asgi_live_server, push_key):
    await asyncio.to_thread(register, asgi_live_server, push_key, "alice", "c-1")
    client, received, errors, _ = await python_client(asgi_live_server, "websocket", "alice",
                                                      "forged", acknowledged=False)
    assert await until(lambda: not client.connected)
    assert errors == [{"error": "unknown connection"}]
    await asyncio.to_thread(push, asgi_live_server, push_key, "alice", "secret")
    await asyncio.sleep(0.3)
    assert received == []


@pytest.mark.asyncio
async def test_closing_the_socket_stops_counting_the_registration(asgi_live_server, push_key):
    await asyncio.to_thread(register, asgi_live_server, push_key, "alice", "c-1")
    client, _, _, _ = await python_client(asgi_live_server, "websocket", "alice", "c-1")
    await close(client)
    def closed() -> bool:
        return PushConnection.objects.filter(disconnected_at__isnull=False).exists()

    for _ in range(100):
        if await asyncio.to_thread(closed):
            break
        await asyncio.sleep(0.05)
    assert await asyncio.to_thread(closed)
    result = await asyncio.to_thread(push, asgi_live_server, push_key, "alice", "anyone?")
    assert result == {"registered_connections": 0}
    # Within the grace period the same pair may come back (Socket.IO reconnects by itself).
    again, received, _, answer = await python_client(asgi_live_server, "websocket", "alice", "c-1")
    assert answer == {"registered": True}
    await asyncio.to_thread(push, asgi_live_server, push_key, "alice", "welcome back")
    assert await until(lambda: received == ["welcome back"])
    await close(again)


def node_problem() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not (REPO / "node_modules" / "socket.io-client").exists():
        return "node_modules/socket.io-client is missing (run `npm ci`)"
    return None


@pytest.fixture
def node_client():
    problem = node_problem()
    if problem:
        if REQUIRE_SERVICES:
            pytest.fail(f"the Socket.IO client tests need Node.js: {problem}")
        pytest.skip(problem)

    def start(module: str, base: str, user_id: str, connection_id: str, transport: str,
              seconds: float) -> subprocess.Popen:
        return subprocess.Popen(
            ["node", str(NODE_CLIENT), module, base, user_id, connection_id, transport, str(seconds)],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return start


def lines_of(process: subprocess.Popen) -> list[dict]:
    output, _ = process.communicate(timeout=30)
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_socket_io_client_4_from_npm_receives_pushes(asgi_live_server, push_key, node_client, transport):
    register(asgi_live_server, push_key, "bob", "n-1")
    client = node_client("socket.io-client", asgi_live_server, "bob", "n-1", transport, 3)
    first, second = json.loads(client.stdout.readline()), json.loads(client.stdout.readline())
    assert first == {"event": "connect", "data": transport}
    assert second == {"event": "registered", "data": {"registered": True}}
    push(asgi_live_server, push_key, "bob", {"title": "from the backend"})
    assert lines_of(client)[0] == {"event": "message", "data": {"title": "from the backend"}}


def test_socket_io_client_1_is_refused_with_the_protocol_named(asgi_live_server, node_client):
    """The 1.x line speaks Engine.IO 3, which no maintained Python server serves; say so plainly."""
    events = lines_of(node_client("socket.io-client-1", asgi_live_server, "bob", "n-1", "polling", 2))
    assert events and events[0]["event"] == "connect_error"
    request = urllib.request.Request(f"{asgi_live_server}/socket.io/?EIO=3&transport=polling")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)  # noqa: S310 — local server
    assert refused.value.code == 400
    assert b"unsupported version" in refused.value.read()
