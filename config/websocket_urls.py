"""WebSocket routes; apps add their consumers here (the inbox stream lives at /ws/inbox/)."""

from __future__ import annotations

websocket_urlpatterns: list = []
