"""Which pages may open a WebSocket: the platform's own hosts plus INBOX_ALLOWED_ORIGINS.

Origin checks protect browsers, which always send an Origin header; a client
with no Origin at all (a backend service holding an inbox token) is not a
browser that could be tricked, so it is let through to authenticate normally.
"""

from __future__ import annotations

from channels.security.websocket import OriginValidator
from django.conf import settings


class BrowserOriginValidator(OriginValidator):
    def valid_origin(self, parsed_origin) -> bool:
        return parsed_origin is None or super().valid_origin(parsed_origin)


def origin_checked(application):
    allowed = [*settings.ALLOWED_HOSTS, *settings.INBOX_ALLOWED_ORIGINS]
    return BrowserOriginValidator(application, allowed)
