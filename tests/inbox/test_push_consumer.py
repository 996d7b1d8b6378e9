"""The browser side of the push-server API, ``/ws/push/``, driven through the real ASGI application.

Registrations and pushes go through the HTTP API as a backend would make
them; sockets are ``WebsocketCommunicator`` sessions against
``config.asgi.application``, and one test uses a real server and client.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import AsyncClient
from websockets.sync.client import connect as websocket_connect

from config.asgi import application
from inbox.models import PushConnection
from tests.factories import ApplicationFactory, make_api_key

pytestmark = pytest.mark.usefixtures("fresh_channel_layer")

ORIGIN = (b"origin", b"http://testserver")
TIMEOUT = 3


async def new_push_key() -> str:
    """A push-scoped key of a fresh Application; returns the secret."""
    _, secret = await database_sync_to_async(make_api_key)(
        application=await database_sync_to_async(ApplicationFactory)(), scopes=["push"])
    return secret


async def http_register(secret: str, user_id: str, connection_id: str) -> None:
    response = await AsyncClient().put(f"/api/{user_id}/register?connectionId={connection_id}",
                                       headers={"X-AUTH-TOKEN": secret})
    assert response.status_code == 200, response.content


async def http_push(secret: str, user_id: str, message) -> dict:
    response = await AsyncClient().post(f"/api/{user_id}/push", {"message": message},
                                        content_type="application/json",
                                        headers={"X-AUTH-TOKEN": secret})
    assert response.status_code == 200, response.content
    return response.json()


@asynccontextmanager
async def push_socket(query: str = "") -> AsyncIterator[WebsocketCommunicator]:
    communicator = WebsocketCommunicator(application, f"/ws/push/{query}", headers=[ORIGIN])
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    try:
        yield communicator
    finally:
        await communicator.disconnect()


@asynccontextmanager
async def registered_socket(user_id: str, connection_id: str) -> AsyncIterator[WebsocketCommunicator]:
    """A socket that registers with a frame (not the query string) and is confirmed."""
    async with push_socket() as socket:
        await socket.send_json_to({"type": "register", "userId": user_id,
                                   "connectionId": connection_id})
        assert await socket.receive_json_from(timeout=TIMEOUT) == {"type": "registered"}
        yield socket


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_two_registered_sessions_of_a_user_both_receive_a_push_made_over_http():
    secret = await new_push_key()
    await http_register(secret, "alice", "tab-1")
    await http_register(secret, "alice", "tab-2")
    async with push_socket("?userId=alice&connectionId=tab-1") as first:
        assert await first.receive_json_from(timeout=TIMEOUT) == {"type": "registered"}
        async with registered_socket("alice", "tab-2") as second:
            message = {"title": "Deploy", "body": "finished", "params": {"build": 12}}
            assert await http_push(secret, "alice", message) == {"registered_connections": 2}
            for socket in (first, second):
                assert await socket.receive_json_from(timeout=TIMEOUT) == {
                    "type": "push", "message": message}
            assert await first.receive_nothing() and await second.receive_nothing()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_unregistered_connection_id_is_closed_with_4403_and_receives_nothing():
    secret = await new_push_key()
    await http_register(secret, "alice", "tab-1")
    async with push_socket("?userId=alice&connectionId=forged") as forged:
        assert await forged.receive_json_from(timeout=TIMEOUT) == {
            "type": "error", "error": "unknown connection"}
        assert await forged.receive_output(timeout=TIMEOUT) == {"type": "websocket.close",
                                                                "code": 4403}
        async with registered_socket("alice", "tab-1") as genuine:
            await http_push(secret, "alice", "hello")
            assert await genuine.receive_json_from(timeout=TIMEOUT) == {
                "type": "push", "message": "hello"}
            assert await forged.receive_nothing()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_socket_presenting_a_forged_pair_after_a_genuine_one_loses_its_pushes():
    secret = await new_push_key()
    await http_register(secret, "alice", "tab-1")
    async with push_socket("?userId=alice&connectionId=tab-1") as socket:
        assert await socket.receive_json_from(timeout=TIMEOUT) == {"type": "registered"}
        await socket.send_json_to({"type": "register", "userId": "bob", "connectionId": "guess"})
        assert (await socket.receive_json_from(timeout=TIMEOUT))["error"] == "unknown connection"
        assert (await socket.receive_output(timeout=TIMEOUT))["code"] == 4403
        assert await http_push(secret, "alice", "hello") == {"registered_connections": 1}
        assert await socket.receive_nothing()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_session_of_another_user_receives_nothing():
    secret = await new_push_key()
    await http_register(secret, "alice", "a-1")
    await http_register(secret, "bob", "b-1")
    async with registered_socket("alice", "a-1") as alice, registered_socket("bob", "b-1") as bob:
        await http_push(secret, "alice", {"title": "for alice"})
        assert (await alice.receive_json_from(timeout=TIMEOUT))["message"] == {"title": "for alice"}
        assert await bob.receive_nothing()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_same_user_id_under_another_application_receives_nothing():
    ours, theirs = await new_push_key(), await new_push_key()
    await http_register(ours, "alice", "ours-1")
    await http_register(theirs, "alice", "theirs-1")
    async with (registered_socket("alice", "ours-1") as our_socket,
                registered_socket("alice", "theirs-1") as their_socket):
        assert await http_push(ours, "alice", "ours only") == {"registered_connections": 1}
        assert await our_socket.receive_json_from(timeout=TIMEOUT) == {
            "type": "push", "message": "ours only"}
        assert await their_socket.receive_nothing()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_malformed_frames_get_an_error_and_the_socket_stays_usable():
    secret = await new_push_key()
    await http_register(secret, "42", "tab-1")
    async with push_socket() as socket:
        for frame, error in [("{not json", "malformed JSON"), ("[" * 4000, "malformed JSON"),
                             ("[1, 2]", "expected a JSON object"),
                             ('{"type": "subscribe"}', "unknown message type"),
                             ("x" * 5000, "frame too large")]:
            await socket.send_to(text_data=frame)
            assert await socket.receive_json_from(timeout=TIMEOUT) == {"type": "error", "error": error}
        await socket.send_to(bytes_data=b"\x00\x01")
        assert (await socket.receive_json_from(timeout=TIMEOUT))["type"] == "error"
        for incomplete in [{"type": "register", "userId": "42"},
                           {"type": "register", "userId": ["42"], "connectionId": "tab-1"},
                           {"type": "register", "userId": "42", "connectionId": "c" * 201}]:
            await socket.send_json_to(incomplete)
            reply = await socket.receive_json_from(timeout=TIMEOUT)
            assert reply["type"] == "error" and "userId and connectionId" in reply["error"]
        # Numeric user ids are accepted as clients commonly send them.
        await socket.send_json_to({"type": "register", "userId": 42, "connectionId": "tab-1"})
        assert await socket.receive_json_from(timeout=TIMEOUT) == {"type": "registered"}
        await http_push(secret, "42", "still works")
        assert (await socket.receive_json_from(timeout=TIMEOUT))["message"] == "still works"


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_registering_over_the_socket_records_when_the_connection_was_seen():
    secret = await new_push_key()
    await http_register(secret, "alice", "tab-1")
    await database_sync_to_async(PushConnection.objects.update)(last_seen_at=None)
    async with registered_socket("alice", "tab-1"):
        pass
    connection = await database_sync_to_async(PushConnection.objects.get)()
    assert connection.last_seen_at is not None


def test_real_browser_style_client_over_a_real_server_receives_a_push(asgi_live_server):
    _, secret = make_api_key(scopes=["push"])

    def call(method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(
            asgi_live_server + path, method=method, headers={
                "X-AUTH-TOKEN": secret, "Content-Type": "application/json"},
            data=None if body is None else json.dumps(body).encode())
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, response.read()

    assert call("GET", "/api/status/ping") == (200, b"pong")
    assert call("PUT", "/api/alice/register?connectionId=r4nd0m")[0] == 200
    ws_url = asgi_live_server.replace("http://", "ws://") + "/ws/push/"
    with websocket_connect(ws_url, origin=asgi_live_server, open_timeout=TIMEOUT) as browser:
        browser.send(json.dumps({"type": "register", "userId": "alice", "connectionId": "r4nd0m"}))
        assert json.loads(browser.recv(timeout=TIMEOUT)) == {"type": "registered"}
        message = {"title": "Hello", "body": "from a real server", "params": {}}
        status, body = call("POST", "/api/alice/push", {"message": message})
        assert (status, json.loads(body)) == (200, {"registered_connections": 1})
        assert json.loads(browser.recv(timeout=TIMEOUT)) == {"type": "push", "message": message}
