"""A real local HTTP server standing in for a chat or SMS service.

It records every request exactly as it arrived (method, path, headers, raw body)
and answers with whatever the test scripted — a status, headers and body as the
real service documents them — or drops the connection without answering, the way
a crash or a network cut between request and response looks to the sender.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest


@dataclass
class Recorded:
    method: str
    path: str
    headers: Message
    body: bytes

    @property
    def json(self):
        return json.loads(self.body.decode())

    @property
    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode(), keep_blank_values=True)


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | dict | list = b""
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, dict | list):
            return json.dumps(self.body).encode(), "application/json"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return self.body, "application/octet-stream"


DROP = object()  # answer nothing and close the connection
Responder = Callable[[Recorded], "Reply | object"]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        request = Recorded(self.command, self.path, self.headers,
                           self.rfile.read(length) if length else b"")
        self.server.requests.append(request)
        reply = self.server.respond(request)
        if reply is DROP:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        body, content_type = reply.encoded()
        self.send_response(reply.status)
        given = {name.lower() for name in reply.headers}
        headers = {**({} if "content-type" in given else {"Content-Type": content_type}),
                   **reply.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _handle

    def log_message(self, format: str, *args: object) -> None:
        pass


class FakeService(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, respond: Responder):
        self.respond = respond
        self.requests: list[Recorded] = []
        super().__init__(("127.0.0.1", 0), _Handler)

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # no reverse lookup of 127.0.0.1
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address) -> None:
        pass

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"


def scripted(*replies: Reply | object) -> Responder:
    """Answer each request with the next reply; the last one repeats."""
    queue = list(replies)

    def respond(_request: Recorded):
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return respond


def start(respond: Responder) -> FakeService:
    server = FakeService(respond)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    return server


@pytest.fixture
def service():
    """Start local services: ``service(respond)`` → a running ``FakeService``, stopped after
    the test."""
    servers: list[FakeService] = []

    def run(respond: Responder) -> FakeService:
        server = start(respond)
        servers.append(server)
        return server

    yield run
    for server in servers:
        server.shutdown()
        server.server_close()
