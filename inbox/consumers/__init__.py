"""WebSocket consumers: the inbox stream and push-server-compatible sessions."""
