"""ASGI entry point: Socket.IO, then HTTP through Django and WebSockets (origin-checked) through Channels."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Requests run on threads of their own: PostgreSQL connections come from a pool.
os.environ.setdefault("DATABASE_POOL", "true")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.log_redaction import url_credentials_redaction_install  # noqa: E402
from config.websocket_origins import origin_checked  # noqa: E402
from config.websocket_urls import websocket_urlpatterns  # noqa: E402
from inbox.api.push_fast import PushFastPath  # noqa: E402
from inbox.socketio_server import socketio_app  # noqa: E402

# The server set up its logging before importing this module: tokens in URLs stay out of it.
url_credentials_redaction_install()

# Socket.IO (/socket.io/, both transports) first, then the push API's hot path; everything
# else (and every push the hot path does not take) to Django and Channels.
application = socketio_app(PushFastPath(ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Session cookies authenticate browser sockets; inbox tokens are read by the consumer.
        "websocket": origin_checked(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)))
