"""Sending one request through the door: dial the checked address, one deadline, capped read."""

from __future__ import annotations

import http.client
import json as jsonlib
import logging
import re
import socket
import ssl
import threading
import time

from django.conf import settings
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import SSLError as Urllib3SSLError

from notifications.http.addresses import Target, parse_url, resolve, resolve_checked
from notifications.http.errors import (
    BadResponse,
    ConnectError,
    OutboundResponse,
    OutboundTimeout,
    TlsError,
)

USER_AGENT = "Clarion/0.1 (+notification delivery)"
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Routing and framing are the sender's: a caller's value could desync the request.
_RESERVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
_CHUNK = 16 * 1024


def url_check(url: str) -> None:
    """Return None when ``url`` may be called now; raise ``InvalidUrl``, ``DnsError`` or
    ``BlockedAddress`` otherwise. Every request resolves and checks the name again."""
    resolve_checked(parse_url(url))


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
    started = time.monotonic()
    total = float(settings.OUTBOUND_TOTAL_TIMEOUT)
    total = total if timeout is None else min(total, timeout)
    target = parse_url(url)
    payload, send_headers = _prepare(method, target, headers, body, json)
    ips = resolve(target) if trusted else resolve_checked(target)
    deadline = _Deadline(started + total)
    late = f"took longer than {total:g}s"
    if deadline.remaining() <= 0:
        raise OutboundTimeout(f"resolving {target.host} {late}")
    deadline.timer.start()
    conn = resp = None
    try:
        conn, ip = _connect(target, ips, deadline, late)
        conn.timeout = max(deadline.remaining(), 0.001)  # per read, beside the deadline's cut
        try:
            conn.request(method.upper(), target.request_target, body=payload,
                         headers=send_headers, preload_content=False, decode_content=False)
            resp = conn.getresponse()
            data, truncated = _read_capped(resp, max_response_bytes)
        except (OSError, http.client.HTTPException, Urllib3Error) as exc:
            if deadline.fired.is_set() or isinstance(exc, TimeoutError | ReadTimeoutError):
                raise OutboundTimeout(f"{target} ({ip}) {late}") from exc
            if isinstance(exc, ssl.SSLError | Urllib3SSLError):
                raise TlsError(f"TLS failure talking to {target} ({ip}): {exc}") from exc
            raise BadResponse(f"{target} ({ip}) broke off or answered with invalid HTTP "
                              f"({type(exc).__name__})") from exc
        if deadline.fired.is_set():  # the cut ends a read-until-close body early and cleanly
            raise OutboundTimeout(f"{target} ({ip}) {late}")
    finally:
        deadline.timer.cancel()
        if resp is not None:  # closed without draining: the unread rest is dropped
            resp.close()
        if conn is not None:
            conn.close()
    return OutboundResponse(status=resp.status, body=data, truncated=truncated,
                            headers={name.lower(): resp.headers[name] for name in resp.headers},
                            elapsed_ms=int((time.monotonic() - started) * 1000), final_ip=ip)



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
        # Checked here because http.client's own error would quote the value (maybe a token).
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise ValueError(f"invalid header name {name!r}")
        if name.lower() in _RESERVED_HEADERS:
            raise ValueError(f"header {name!r} is set by the sender, not the caller")
        if not isinstance(value, str) or not value.isascii() or re.search(r"[\r\n\x00]", value):
            raise ValueError(f"header {name!r} has an invalid value (not shown)")
        chosen[name.lower()] = (name, value)
    return body, {"Host": target.host_header, **dict(chosen.values())}


class _Deadline:
    """Shuts the live socket down when the total budget runs out: socket timeouts bound
    each read, not their sum, so a server dripping a byte a second would hold a worker for
    ever. The shutdown wakes whatever read or write is blocked on the socket."""

    def __init__(self, expires: float):
        self.expires = expires
        self.fired = threading.Event()
        self.conn: HTTPConnection | None = None
        # Pinned once connected: http.client drops ``conn.sock`` when a response says
        # "Connection: close" although the body is still read from that socket.
        self.sock: socket.socket | None = None
        self.timer = threading.Timer(max(self.remaining(), 0.0), self._cut)
        self.timer.daemon = True

    def remaining(self) -> float:
        return self.expires - time.monotonic()

    def _cut(self) -> None:
        self.fired.set()
        sock = self.sock or getattr(self.conn, "sock", None)
        if sock is not None:
            try:  # the plain socket method, so an SSL socket's own state is left alone
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass  # already closed


def _connect(target: Target, ips: list[str], deadline: _Deadline,
             late: str) -> tuple[HTTPConnection, str]:
    """Dial the checked addresses in order; return the first connection that opens."""
    failures: list[str] = []
    timeouts = 0
    for ip in ips:
        if deadline.remaining() <= 0 or deadline.fired.is_set():
            break
        limit = min(float(settings.OUTBOUND_CONNECT_TIMEOUT), deadline.remaining())
        conn: HTTPConnection
        if target.scheme == "https":
            # Dial the checked IP; SNI and certificate verification use the original name.
            conn = HTTPSConnection(ip, target.port, timeout=limit, server_hostname=target.host,
                                   cert_reqs="CERT_REQUIRED")
        else:
            conn = HTTPConnection(ip, target.port, timeout=limit)
        deadline.conn, deadline.sock = conn, None
        try:
            conn.connect()
            deadline.sock = conn.sock
            return conn, ip
        except NewConnectionError as exc:  # caught before its base class ConnectTimeoutError
            why = getattr(exc.__cause__, "strerror", None) or type(exc.__cause__).__name__
            failures.append(f"{ip}: {why}")
        except ConnectTimeoutError:
            timeouts += 1
            failures.append(f"{ip}: no answer within {limit:g}s")
        except (OSError, Urllib3Error) as exc:  # TCP was up, so the TLS handshake failed
            conn.close()
            if deadline.fired.is_set() or isinstance(exc, TimeoutError):
                raise OutboundTimeout(f"TLS handshake with {target} ({ip}) {late}") from exc
            raise TlsError(f"TLS handshake with {target} ({ip}) failed: {exc}") from exc
        conn.close()
    detail = "; ".join(failures) or "no time left"
    if deadline.fired.is_set() or deadline.remaining() <= 0 or timeouts == len(failures):
        raise OutboundTimeout(f"could not connect to {target} in time ({detail})")
    raise ConnectError(f"could not connect to {target}: {detail}")


def _read_capped(resp, limit: int) -> tuple[bytes, bool]:
    """Read at most ``limit`` bytes, plus one to learn whether more was coming."""
    buf = bytearray()
    while len(buf) <= limit:
        chunk = resp.read(min(_CHUNK, limit + 1 - len(buf)), decode_content=False)
        if not chunk:
            break
        buf += chunk
    return bytes(buf[:limit]), len(buf) > limit


# urllib3 logs the full request URL, query included, when a response's headers are
# malformed; webhook query strings carry tokens, so that one record is dropped.
logging.getLogger("urllib3.connection").addFilter(
    lambda record: not str(record.msg).startswith("Failed to parse headers"))
