"""Credentials passed in URLs never reach the server's logs.

Browsers cannot put headers on ``EventSource`` or WebSocket requests, so an
inbox token may travel as ``?token=`` on the stream, long-poll, WebSocket and
Socket.IO URLs. uvicorn's access log and its WebSocket lines print the whole
path with its query; this filter replaces the value of every credential-like
query parameter with ``[redacted]`` before a record is written.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
_CREDENTIAL = re.compile(
    r"([?&](?:token|access_token|api_key|apikey|key|secret|password|signature|sig)=)[^&#\s\"']*",
    re.IGNORECASE)
#: The server's loggers that print request paths.
LOGGERS = ("uvicorn.access", "uvicorn.error")


def url_credentials_redacted(text: str) -> str:
    return _CREDENTIAL.sub(rf"\1{REDACTED}", text)


class RedactUrlCredentials(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = url_credentials_redacted(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(url_credentials_redacted(arg) if isinstance(arg, str) else arg
                                for arg in record.args)
        return True


def url_credentials_redaction_install() -> None:
    """Filter the server's loggers (call once the server configured its logging)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactUrlCredentials) for f in logger.filters):
            logger.addFilter(RedactUrlCredentials())
