"""The push API's hot path: it serves successful pushes itself and hands everything else to Django."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from channels.db import database_sync_to_async

from inbox.api.push_fast import PushFastPath
from inbox.services.push import push_connection_register
from tests.factories import make_api_key

pytestmark = pytest.mark.django_db(transaction=True)


class Downstream:
    """Stands where Django stands; records what it was handed."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope, receive, send) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def call(app, path: str, body: bytes, headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
    sent: list[dict] = []
    chunks = [{"type": "http.request", "body": body[:5], "more_body": True},
              {"type": "http.request", "body": body[5:], "more_body": False}]

    async def receive():
        return chunks.pop(0)

    async def send(message):
        sent.append(message)
    scope = {"type": "http", "method": "POST", "path": path, "headers": headers, "query_string": b"",
             "scheme": "http"}
    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


@pytest.fixture
def registered():
    key, secret = make_api_key(scopes=["push"])
    push_connection_register(application=key.application, user_id="alice", connection_id="c-1")
    return secret


@pytest.mark.asyncio
async def test_a_valid_push_is_answered_without_django(registered):
    downstream = Downstream()
    app = PushFastPath(downstream)
    body = json.dumps({"message": {"title": "hi"}}).encode()
    status, answer = await call(app, "/api/alice/push", body, [
        (b"x-auth-token", registered.encode()), (b"content-type", b"application/json"),
        (b"host", b"localhost")])
    assert (status, json.loads(answer)) == (200, {"registered_connections": 1})
    assert downstream.bodies == []


@pytest.mark.asyncio
@pytest.mark.parametrize(("path", "body", "token", "content_type"), [
    ("/api/alice/push", b'{"message": 1}', "wrong-key", b"application/json"),
    ("/api/alice/push", b'{"nothing": 1}', None, b"application/json"),
    ("/api/alice/push", b"not json at all", None, b"application/json"),
    ("/api/alice/push", b"message=x", None, b"text/plain"),
    ("/api/alice/push/more", b'{"message": 1}', None, b"application/json"),
    ("/api/" + "u" * 201 + "/push", b'{"message": 1}', None, b"application/json"),
])
async def test_anything_else_goes_to_django_with_its_body_intact(registered, path, body, token,
                                                                 content_type):
    downstream = Downstream()
    headers = [(b"x-auth-token", (token or registered).encode()), (b"content-type", content_type),
               (b"host", b"localhost")]
    status, _ = await call(PushFastPath(downstream), path, body, headers)
    assert status == 418 and downstream.bodies == [body]


@pytest.mark.asyncio
async def test_a_key_without_the_push_scope_is_left_to_django(db):
    _, secret = await database_sync_to_async(make_api_key)(scopes=["events:write"])
    downstream = Downstream()
    status, _ = await call(PushFastPath(downstream), "/api/alice/push", b'{"message": 1}', [
        (b"x-auth-token", secret.encode()), (b"content-type", b"application/json"),
        (b"host", b"localhost")])
    assert status == 418


def test_over_a_real_server_errors_are_djangos_and_successes_match_its_answer(asgi_live_server,
                                                                              registered):
    def post(body: bytes, token: str, content_type="application/json"):
        request = urllib.request.Request(f"{asgi_live_server}/api/alice/push", data=body, method="POST",
                                         headers={"X-AUTH-TOKEN": token, "Content-Type": content_type})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    assert post(b'{"message": "hi"}', registered) == (200, {"registered_connections": 1})
    assert post(b"message=hi", registered, "application/x-www-form-urlencoded") == (
        200, {"registered_connections": 1})
    status, body = post(b'{"message": "hi"}', "ck_unknown_key")
    assert status == 401 and "detail" in body
    status, body = post(b'{"mesage": "typo"}', registered)
    assert status == 400 and "message" in body


@pytest.mark.asyncio
async def test_a_foreign_host_or_plain_http_where_https_is_required_goes_to_django(registered, settings):
    downstream = Downstream()
    body = b'{"message": 1}'
    headers = [(b"x-auth-token", registered.encode()), (b"content-type", b"application/json")]
    status, _ = await call(PushFastPath(downstream), "/api/alice/push", body,
                           [*headers, (b"host", b"evil.example")])
    assert status == 418
    settings.SECURE_SSL_REDIRECT = True
    status, _ = await call(PushFastPath(downstream), "/api/alice/push", body,
                           [*headers, (b"host", b"localhost")])
    assert status == 418 and downstream.bodies == [body, body]
