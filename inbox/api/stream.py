"""The inbox stream for clients that cannot hold a WebSocket: Server-Sent Events and long-polling.

Both carry exactly the messages the WebSocket carries (``notification.created``,
``notification.read``, ``notification.deleted``, ``notifications.all_read``).
A client names the last notification id it saw (``Last-Event-ID`` for SSE,
``?after=`` for long-polling) and first receives what it missed. The session
listens on the subscriber's channel-layer group before reading the database,
so nothing that happens in between is lost (a client may see an item twice;
ids make that harmless).
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.http import HttpRequest, JsonResponse, StreamingHttpResponse

from inbox.auth import bearer_token, subscriber_for_user
from inbox.live.publisher import live_payload
from inbox.selectors import (
    notification_as_dict,
    notification_cursor,
    notifications_after,
    unread_count,
)
from inbox.services.live import subscriber_group
from inbox.services.tokens import inbox_token_subscriber
from notifications.models import Subscriber


async def _subscriber(request: HttpRequest) -> Subscriber | None:
    token = request.GET.get("token") or bearer_token(request.headers.get("Authorization", ""))
    if token:
        return await database_sync_to_async(inbox_token_subscriber)(token=token)
    user = await request.auser()
    return await database_sync_to_async(subscriber_for_user)(user)


def _unauthorized() -> JsonResponse:
    return JsonResponse({"detail": "Log in, or pass an inbox token as ?token=."}, status=401)


@database_sync_to_async
def _missed(subscriber_id: int, after: int) -> list[dict]:
    return [{"type": "notification.created", "notification": notification_as_dict(n),
             "unread_count": None} for n in notifications_after(subscriber_id=subscriber_id,
                                                                after_id=after)]


@database_sync_to_async
def _unread(subscriber_id: int) -> int:
    return unread_count(subscriber_id=subscriber_id)


class _Listener:
    """A private channel in the subscriber's group, for one request's lifetime.

    One receive stays pending across waits: cancelling it at every idle timeout
    would make the layer drop the channel and anything that arrives before the
    next wait.
    """

    def __init__(self, subscriber_id: int, after: int | None = None):
        self.layer = get_channel_layer()
        self.group = subscriber_group(subscriber_id)
        self.channel = ""
        # The client already has every notification up to here (it said so, or it was just
        # read from the database for it); a live copy of one of those is not sent again.
        self.after = after or 0
        self._pending: asyncio.Future | None = None

    async def __aenter__(self) -> _Listener:
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(self.group, self.channel)
        return self

    async def __aexit__(self, *exc) -> None:
        if self._pending is not None:
            self._pending.cancel()
        await self.layer.group_discard(self.group, self.channel)

    async def next(self, timeout: float) -> dict | None:
        """The next live payload, or None when ``timeout`` seconds pass without one."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            if self._pending is None:
                self._pending = asyncio.ensure_future(self.layer.receive(self.channel))
            remaining = max(deadline - asyncio.get_running_loop().time(), 0)
            done, _ = await asyncio.wait({self._pending}, timeout=remaining)
            if not done:
                return None
            message, self._pending = self._pending.result(), None
            payload = live_payload(message)
            created = (payload.get("notification") or {}).get("id") if payload.get(
                "type") == "notification.created" else None
            if created is None or created > self.after:
                self.after = max(self.after, created or 0)
                return payload


def _sse(payload: dict) -> str:
    event_id = payload.get("notification", {}).get("id") if payload.get("notification") else None
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {payload['type']}\ndata: {json.dumps(payload)}\n\n"


async def sse_stream(request: HttpRequest):
    """``GET /api/notifications/stream`` — an ``EventSource`` endpoint."""
    subscriber = await _subscriber(request)
    if subscriber is None:
        return _unauthorized()
    after = notification_cursor(request.headers.get("Last-Event-ID") or request.GET.get("last_id"))

    async def events() -> AsyncIterator[str]:
        async with _Listener(subscriber.pk, after) as listener:
            yield "retry: 3000\n\n"
            count = await _unread(subscriber.pk)
            yield _sse({"type": "hello", "unread_count": count})
            if after is not None:
                for payload in await _missed(subscriber.pk, after):
                    payload["unread_count"] = count
                    listener.after = max(listener.after, payload["notification"]["id"])
                    yield _sse(payload)
            while True:
                payload = await listener.next(settings.INBOX_SSE_KEEPALIVE_SECONDS)
                # A comment line keeps proxies from closing an idle stream.
                yield _sse(payload) if payload else ": keep-alive\n\n"

    response = StreamingHttpResponse(events(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event through at once
    return response


async def long_poll(request: HttpRequest):
    """``GET /api/notifications/poll?after=<id>&timeout=<s>`` — waits until something happens.

    Answers ``{"events": [...], "last_id": N}``; ``last_id`` is the cursor for the
    next call. Without ``after`` it answers at once with the current cursor.
    """
    subscriber = await _subscriber(request)
    if subscriber is None:
        return _unauthorized()
    after = notification_cursor(request.GET.get("after"))
    try:
        asked = float(request.GET.get("timeout", settings.INBOX_LONG_POLL_SECONDS))
    except ValueError:
        asked = math.nan
    if not math.isfinite(asked):  # "nan" and "inf" are floats too
        return JsonResponse({"timeout": ["Must be a number of seconds."]}, status=400)
    timeout = min(max(asked, 0.0), settings.INBOX_LONG_POLL_SECONDS)
    async with _Listener(subscriber.pk, after) as listener:
        events = await _missed(subscriber.pk, after) if after is not None else []
        if after is not None and not events:
            first = await listener.next(max(timeout, 0))
            events = [first] if first else []
            while first and (more := await listener.next(0.05)):
                events.append(more)
    count = await _unread(subscriber.pk)
    for event in events:
        if event.get("unread_count") is None:
            event["unread_count"] = count
    ids = [e["notification"]["id"] for e in events if e.get("notification")]
    last_id = max([after or 0, *ids]) if after is not None else await _latest_id(subscriber.pk)
    return JsonResponse({"events": events, "last_id": last_id, "unread_count": count})


@database_sync_to_async
def _latest_id(subscriber_id: int) -> int:
    from inbox.models import Notification

    latest = Notification.objects.filter(subscriber_id=subscriber_id).order_by("-id").first()
    return latest.pk if latest else 0
