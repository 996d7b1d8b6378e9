"""Which pages may open a WebSocket: the platform's own hosts plus INBOX_ALLOWED_ORIGINS.

Origin checks protect browsers, which always send an Origin header; a client
with no Origin at all (a backend service holding an inbox token) is not a
browser that could be tricked, so it is let through to authenticate normally.
"""

from __future__ import annotations

from urllib.parse import urlparse

from channels.security.websocket import OriginValidator
from django.conf import settings


class BrowserOriginValidator(OriginValidator):
    def valid_origin(self, parsed_origin) -> bool:
        return parsed_origin is None or super().valid_origin(parsed_origin)


def _allowed() -> list[str]:
    return [*settings.ALLOWED_HOSTS, *settings.INBOX_ALLOWED_ORIGINS]


def origin_checked(application):
    return BrowserOriginValidator(application, _allowed())


def origin_allowed(origin: str | None, environ: dict | None = None) -> bool:
    """The same policy for servers that take a predicate (the Socket.IO server)."""
    if not origin:
        return True
    return BrowserOriginValidator(None, _allowed()).valid_origin(urlparse(origin))
