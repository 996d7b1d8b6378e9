"""The door's entrance: validate a request, then hand it to the engine.

``outbound_request`` makes one call and raises what went wrong;
``outbound_requests`` makes a batch concurrently (one event loop, connections kept
alive within the batch) and returns each call's failure in its place. Both check the
method and headers here, before anything is resolved or dialled.
"""

from __future__ import annotations

import json as jsonlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings

from notifications.http.addresses import Target, parse_url, resolve_checked
from notifications.http.engine import PreparedCall, perform
from notifications.http.errors import OutboundError, OutboundResponse

USER_AGENT = "Clarion/0.1 (+notification delivery)"
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Routing and framing are the sender's: a caller's value could desync the request.
_RESERVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


def url_check(url: str) -> None:
    """Return None when ``url`` may be called now; raise ``InvalidUrl``, ``DnsError`` or
    ``BlockedAddress`` otherwise. Every request resolves and checks the name again."""
    resolve_checked(parse_url(url))


@dataclass(frozen=True)
class OutboundCall:
    """One request for ``outbound_requests``; the fields mean what ``outbound_request``'s
    arguments mean."""

    method: str
    url: str
    headers: dict[str, str] | None = None
    body: bytes | None = None
    json: object = None
    timeout: float | None = None
    max_response_bytes: int = 64 * 1024
    trusted: bool = False

    def prepared(self) -> PreparedCall:
        """The request exactly as it will be sent. Raise ``InvalidUrl`` for a URL that cannot
        be parsed, ``ValueError`` for a malformed method or header."""
        target = parse_url(self.url)
        payload, headers = _prepare(self.method, target, self.headers, self.body, self.json)
        total = float(settings.OUTBOUND_TOTAL_TIMEOUT)
        return PreparedCall(
            method=self.method.upper(), target=target, headers=headers, body=payload,
            total_timeout=total if self.timeout is None else min(total, self.timeout),
            max_response_bytes=self.max_response_bytes, trusted=self.trusted)


def outbound_request(method: str, url: str, *, headers: dict[str, str] | None = None,
                     body: bytes | None = None, json: object = None,
                     timeout: float | None = None,
                     max_response_bytes: int = 64 * 1024,
                     trusted: bool = False) -> OutboundResponse:
    """Send one request; return the response whatever its status (a 3xx included).

    ``json`` (when not None) is sent compact in UTF-8 as ``application/json`` unless the
    caller sets Content-Type; it excludes ``body``. ``timeout`` can only shorten
    ``settings.OUTBOUND_TOTAL_TIMEOUT``. Raise an ``OutboundError`` subclass when the call is
    refused or fails, ``ValueError`` for a malformed method or header (a caller's bug).

    ``trusted=True`` is only for hosts the *operator* configured in the environment (a
    Matrix homeserver, a Mattermost server), which may rightly live on a private network:
    it skips the address policy and nothing else (no redirects, same deadline, capped read).
    Never pass it for a URL that staff or integrators entered.
    """
    [answer] = outbound_requests([OutboundCall(method, url, headers, body, json, timeout,
                                               max_response_bytes, trusted)])
    if isinstance(answer, OutboundError):
        raise answer
    return answer


def outbound_requests(calls: Sequence[OutboundCall | PreparedCall],
                      ) -> list[OutboundResponse | OutboundError]:
    """Make every call concurrently, at most ``OUTBOUND_PER_HOST_CONCURRENCY`` at a time to
    one host; return each one's response or ``OutboundError`` in the order of ``calls``.

    A call may be given already ``prepared()`` (a caller that checked it itself). A
    malformed method or header raises ``ValueError`` before any call is made (a caller's
    bug); a URL that cannot be parsed is that call's ``InvalidUrl``. The calls touch no
    database, so callers do their reads before and their writes after.
    """
    prepared: list[PreparedCall | OutboundError] = []
    for call in calls:
        try:
            prepared.append(call if isinstance(call, PreparedCall) else call.prepared())
        except OutboundError as exc:
            prepared.append(exc)
    answers = iter(perform([p for p in prepared if isinstance(p, PreparedCall)]))
    return [next(answers) if isinstance(p, PreparedCall) else p for p in prepared]


def _prepare(method: str, target: Target, headers: dict[str, str] | None,
             body: bytes | None, json: object) -> tuple[bytes | None, dict[str, str]]:
    if not _TOKEN.fullmatch(method or ""):
        raise ValueError("HTTP method must be a token such as GET or POST")
    if body is not None and json is not None:
        raise ValueError("pass either body or json, not both")
    chosen = {"user-agent": ("User-Agent", USER_AGENT)}
    if json is not None:
        body = jsonlib.dumps(json, separators=(",", ":"), ensure_ascii=False).encode()
        chosen["content-type"] = ("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        # Checked here because the HTTP client's own error would quote the value (maybe a token).
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise ValueError(f"invalid header name {name!r}")
        if name.lower() in _RESERVED_HEADERS:
            raise ValueError(f"header {name!r} is set by the sender, not the caller")
        if not isinstance(value, str) or not value.isascii() or re.search(r"[\r\n\x00]", value):
            raise ValueError(f"header {name!r} has an invalid value (not shown)")
        chosen[name.lower()] = (name, value)
    return body, {"Host": target.host_header, **dict(chosen.values())}
