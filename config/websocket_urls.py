"""WebSocket routes; apps add their consumers here (the inbox stream lives at /ws/inbox/)."""

from __future__ import annotations

from django.urls import path

from inbox.consumers.inbox import InboxConsumer
from inbox.consumers.push import PushConsumer

websocket_urlpatterns: list = [
    path("ws/inbox/", InboxConsumer.as_asgi()),
    path("ws/push/", PushConsumer.as_asgi()),
]
