"""A real HTTP server standing in for an integrator's webhook receiver.

It listens on 127.0.0.1 in a thread, records every request exactly as it
arrived (raw body bytes, headers) and answers with a scripted sequence of
replies; once the script is used up it answers 200. Tests point endpoints at
``receiver.url`` with ``OUTBOUND_ALLOWED_NETWORKS`` opened for loopback.
"""

from __future__ import annotations

import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0  # seconds to wait before answering (for timeouts)


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 — http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        receiver: Receiver = self.server.receiver  # type: ignore[attr-defined]
        reply = receiver._record(Received(self.command, self.path,
                                          {k.lower(): v for k, v in self.headers.items()}, body))
        if reply.delay:
            with receiver._in_flight():
                time.sleep(reply.delay)
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except OSError:
            pass  # the client gave up (a timeout test)

    do_GET = do_PUT = do_POST

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self) -> None:
        # Skip HTTPServer's reverse DNS lookup of the bind address.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address) -> None:
        pass


class Receiver:
    """``with Receiver() as receiver: receiver.script(Reply(503), Reply(200))``."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.requests: list[Received] = []
        self.peak_in_flight = 0  # most delayed replies pending at once
        self._in_flight_now = 0
        self._script: list[Reply] = []
        self._lock = threading.Lock()
        self._server = _Server((host, 0), _Handler)
        self._server.receiver = self  # type: ignore[attr-defined]

    def __enter__(self) -> Receiver:
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hooks/clarion"

    @contextmanager
    def _in_flight(self) -> Iterator[None]:
        with self._lock:
            self._in_flight_now += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight_now)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight_now -= 1

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    def _record(self, received: Received) -> Reply:
        with self._lock:
            self.requests.append(received)
            return self._script.pop(0) if self._script else Reply()
