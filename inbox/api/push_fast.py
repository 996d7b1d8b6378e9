"""The hot path of ``POST /api/{userId}/push`` as a plain ASGI app in front of Django.

Push-server backends push once per event per user, thousands of times a
second. Through Django and DRF each push paid for the middleware stack, a
thread hop per synchronous middleware, an API-key query and an
``async_to_sync`` round to the layer: about 130 pushes a second on this
machine, against about 4,000 for a bare ASGI app (``bench/live_push.py``).
This app serves only the successful case, on the event loop:

* the API key is checked through a short-lived in-process cache
  (``KEY_CACHE_SECONDS``; a revoked key stops working within that time),
* the live-registration count is one query, in a thread, and the push one
  publish on this process's own layer connection — shared by every push that
  arrives meanwhile (``inbox.live.batching``), so under load the round trips
  per second stay flat while pushes per second grow.

Anything else — a missing or bad key, a malformed body, an over-long id, an
unexpected content type — is handed to Django untouched (the body replayed),
so every error is still answered by ``inbox.api.push.PushSendView`` in exactly
one place, and the OpenAPI schema still describes this endpoint.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import QueryDict
from django.http.request import split_domain_port, validate_host
from django.urls import Resolver404, resolve

from inbox.live.batching import MicroBatcher
from inbox.live.publisher import layer_message
from inbox.models import PushConnection
from inbox.services.live import push_user_group
from inbox.services.push import PUSH_FRAME_TYPE, PUSH_ID_MAX_LENGTH
from notifications.services.api_keys import api_key_authenticate

logger = logging.getLogger(__name__)

#: How long a checked key is trusted without asking the database again.
KEY_CACHE_SECONDS = 5.0
_KEY_CACHE_LIMIT = 1024
_PUSH_SCOPE = "push"
_HEADERS = [(b"content-type", b"application/json"), (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"), (b"vary", b"Accept")]

# secret digest → (application id, time it stops being trusted)
_keys: dict[bytes, tuple[int, float]] = {}


def _application_for(secret: str) -> int | None:
    """The Application id of a live key with the push scope, or None (then Django answers)."""
    digest = hashlib.sha256(secret.encode()).digest()
    cached = _keys.get(digest)
    if cached and cached[1] > time.monotonic():
        return cached[0]
    return None


def _check_key(secret: str) -> int | None:
    api_key = api_key_authenticate(secret=secret)
    if api_key is None or _PUSH_SCOPE not in api_key.scopes:
        return None
    if len(_keys) >= _KEY_CACHE_LIMIT:
        _keys.clear()
    _keys[hashlib.sha256(secret.encode()).digest()] = (
        api_key.application_id, time.monotonic() + KEY_CACHE_SECONDS)
    return api_key.application_id


def _live_registrations(pairs: list[tuple[int, str]]) -> list[int]:
    """Live registrations of each (application id, user id), for many pushes in one query.

    Plain SQL with row values (PostgreSQL and SQLite both take them): the ORM's
    OR of a few dozen conditions took longer to build than the query to run.
    """
    distinct = list(dict.fromkeys(pairs))
    rows = ", ".join(["(%s, %s)"] * len(distinct))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT application_id, user_id, COUNT(*) FROM {PushConnection._meta.db_table} "  # noqa: S608
            f"WHERE disconnected_at IS NULL AND (application_id, user_id) IN (VALUES {rows}) "
            "GROUP BY application_id, user_id",
            [value for pair in distinct for value in pair])
        counts = {(application_id, user_id): n for application_id, user_id, n in cursor.fetchall()}
    return [counts.get(pair, 0) for pair in pairs]


async def _publish(messages: list[tuple[str, dict]]) -> list[None]:
    await get_channel_layer().group_send_many(messages)
    return [None] * len(messages)


# Not thread-sensitive: key checks run beside each other in a small pool of threads (each with
# its own connection, closed when stale) instead of queueing for one thread.
_check_key_async = database_sync_to_async(_check_key, thread_sensitive=False)
# Concurrent pushes share their round trips: one count query and one layer publish per batch.
_counts = MicroBatcher(database_sync_to_async(_live_registrations, thread_sensitive=False))
_publishes = MicroBatcher(_publish)


def _message(body: bytes, content_type: str) -> Any:
    """The pushed message, or ``...`` when the body is not a plain valid one."""
    if content_type.startswith("application/json"):
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return ...
        return data["message"] if isinstance(data, dict) and "message" in data else ...
    if content_type.startswith("application/x-www-form-urlencoded"):
        from inbox.api.push import form_message

        try:
            form = QueryDict(body.decode("utf-8"))
        except UnicodeDecodeError:
            return ...
        return form_message(form).get("message", ...)
    return ...


class PushFastPath:
    """Serve successful pushes directly; hand every other request to ``application``."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].endswith(
                ("/push", "/push/")):
            return await self.application(scope, receive, send)
        user_id = self._user_id(scope["path"])
        if user_id is None:
            return await self.application(scope, receive, send)
        body, complete = await self._read_body(receive)
        replay = self._replay(body, complete, receive)
        if not complete:
            return await self.application(scope, replay, send)
        headers = {name.lower(): value for name, value in scope["headers"]}
        if not self._as_django_would_take_it(scope, headers):
            return await self.application(scope, replay, send)
        secret = headers.get(b"x-auth-token", b"").decode("latin-1").strip()
        message = _message(body, headers.get(b"content-type", b"").decode("latin-1").lower())
        if not secret or message is ... or message is None:
            return await self.application(scope, replay, send)
        application_id = _application_for(secret) or await _check_key_async(secret)
        if application_id is None:
            return await self.application(scope, replay, send)
        registered = await _counts.submit((application_id, user_id))
        if registered:
            group = push_user_group(application_id, user_id)
            try:
                await _publishes.submit((group, layer_message(
                    group, {"type": PUSH_FRAME_TYPE, "message": message})))
            except Exception:  # noqa: BLE001 — Django tries once more and answers 503 if it fails
                logger.warning("push to the live layer failed; handing it to Django", exc_info=True)
                return await self.application(scope, replay, send)
        answer = json.dumps({"registered_connections": registered}).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*_HEADERS, (b"content-length", str(len(answer)).encode())]})
        await send({"type": "http.response.body", "body": answer})

    @staticmethod
    @functools.lru_cache(maxsize=8192)  # resolving was a tenth of a push's time; paths repeat
    def _user_id(path: str) -> str | None:
        """The user id when Django would route ``path`` to the push view; None otherwise."""
        try:
            match = resolve(path)
        except Resolver404:
            return None
        from inbox.api.push import PushSendView

        if getattr(match.func, "view_class", None) is not PushSendView:
            return None
        user_id = match.kwargs.get("user_id", "")
        if not 0 < len(user_id) <= PUSH_ID_MAX_LENGTH or "\x00" in user_id:
            return None
        return user_id

    @staticmethod
    def _as_django_would_take_it(scope, headers: dict[bytes, bytes]) -> bool:
        """The host is allowed and, where HTTPS is required, the request came over it.

        Otherwise Django answers (400 for a foreign host, a redirect to HTTPS), as
        for every other path.
        """
        host = headers.get(b"host", b"").decode("latin-1")
        if not validate_host(split_domain_port(host)[0], settings.ALLOWED_HOSTS):
            return False
        if settings.SECURE_SSL_REDIRECT and scope.get("scheme") != "https":
            proxy = settings.SECURE_PROXY_SSL_HEADER
            forwarded = headers.get(proxy[0][5:].lower().replace("_", "-").encode()) if proxy else None
            return bool(proxy) and forwarded is not None and forwarded.decode("latin-1").split(",")[
                0].strip() == proxy[1]
        return True

    @staticmethod
    async def _read_body(receive) -> tuple[bytes, bool]:
        """Up to the API's body limit; ``complete`` is False when the limit was passed."""
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks), False
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            more = message.get("more_body", False)
            if size > settings.API_MAX_BODY_BYTES:  # Django reads the rest and answers 413
                return b"".join(chunks), False
        return b"".join(chunks), True

    @staticmethod
    def _replay(body: bytes, complete: bool, receive):
        """A ``receive`` that first gives back what was read, then continues the real one."""
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": not complete}
            return await receive()
        return replay
