"""Tests for the outbound HTTP door: real local servers stand in for the far end.

The only thing faked is DNS (``socket.getaddrinfo``, at the edge) for names this machine
cannot own, and, where no server can listen (10.0.0.1, 169.254.169.254, ...), a recorder on
``socket.socket.connect`` proving that no connection was even attempted.
"""

from __future__ import annotations

import json
import shutil
import socket
import socketserver
import ssl
import subprocess
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ImproperlyConfigured

from notifications.http import (
    BadResponse,
    BlockedAddress,
    ConnectError,
    DnsError,
    InvalidUrl,
    OutboundError,
    OutboundTimeout,
    TlsError,
    outbound_request,
    url_check,
)

Responder = Callable[[BaseHTTPRequestHandler], None]


class _Handler(BaseHTTPRequestHandler):
    def _record_and_respond(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append(
            {"method": self.command, "path": self.path, "headers": self.headers, "body": body})
        self.server.respond(self)

    do_GET = do_POST = do_PUT = do_HEAD = _record_and_respond

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    """Records every accepted connection and every request it reads."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], respond: Responder,
                 tls: ssl.SSLContext | None = None):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.respond = respond
        self.requests: list[dict] = []
        self.connections = 0
        super().__init__(address, _Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)

    def server_bind(self) -> None:
        # Skip HTTPServer's reverse lookup of the bind address; nothing here needs it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def get_request(self):
        accepted = super().get_request()
        self.connections += 1
        return accepted

    def handle_error(self, request, client_address) -> None:
        pass  # the client hanging up on a slow or endless response is the point of some tests

    @property
    def port(self) -> int:
        return self.server_address[1]


def reply(status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None) -> Responder:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return respond


@pytest.fixture
def serve():
    """Start a real HTTP server in a thread: ``serve(respond, host="127.0.0.1", port=0)``."""
    servers: list[_Server] = []

    def start(respond: Responder, host: str = "127.0.0.1", port: int = 0,
              tls: ssl.SSLContext | None = None) -> _Server:
        server = _Server((host, port), respond, tls)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def outbound_settings(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    settings.OUTBOUND_CONNECT_TIMEOUT = 2
    settings.OUTBOUND_TOTAL_TIMEOUT = 5
    return settings


@pytest.fixture
def allow_loopback(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]


class FakeDns:
    """Answers for invented names, one list of IPs per lookup (the last one repeats)."""

    def __init__(self) -> None:
        self.rounds: dict[str, list[list[str]]] = {}
        self.calls: list[str] = []

    def answer(self, name: str, *rounds: list[str]) -> None:
        self.rounds[name] = list(rounds)


@pytest.fixture
def fake_dns(monkeypatch) -> FakeDns:
    dns = FakeDns()
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in dns.rounds:
            return real(host, port, *args, **kwargs)  # IP literals and real names
        dns.calls.append(host)
        rounds = dns.rounds[host]
        ips = rounds.pop(0) if len(rounds) > 1 else rounds[0]
        return [(socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (ip, port, 0, 0))
                if ":" in ip else
                (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (ip, port))
                for ip in ips]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return dns


@pytest.fixture
def connect_attempts(monkeypatch) -> list[object]:
    """Record, and refuse, every outgoing TCP connect in the test."""
    attempts: list[object] = []

    def connect(sock, address):
        attempts.append(address)
        raise ConnectionRefusedError(111, "connect recorded by the test")

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


@pytest.fixture(scope="module")
def test_ca(tmp_path_factory) -> dict[str, str]:
    """A throw-away CA and a certificate it signed for ``hooks.example.test``."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    d = tmp_path_factory.mktemp("tls")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    (d / "leaf.ext").write_text("subjectAltName=DNS:hooks.example.test\n"
                                "extendedKeyUsage=serverAuth\n")
    for args in (
        ["req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
         "-subj", "/CN=Clarion test CA", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign"],
        ["req", *ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=hooks.example.test"],
        ["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-out", "leaf.pem", "-days", "2", "-extfile", "leaf.ext"],
    ):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)
    return {"ca": str(d / "ca.pem"), "cert": str(d / "leaf.pem"), "key": str(d / "leaf.key")}


@pytest.fixture
def tls_server(serve, test_ca):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(test_ca["cert"], test_ca["key"])
    return serve(reply(200, b"over tls"), tls=context)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- requests that go through ------------------------------------------------------------


def test_post_json_arrives_exactly_with_headers_and_response_is_returned(serve, allow_loopback):
    server = serve(reply(201, b'{"ok":true}', {"X-Request-Id": "abc-1"}))
    payload = {"event": "user.created", "name": "Zoë", "ids": [1, 2]}

    response = outbound_request(
        "post", f"http://localhost:{server.port}/hooks/in?token=s3cret",
        headers={"Authorization": "Bearer t0ken", "X-Clarion-Event": "user.created"},
        json=payload)

    [request] = server.requests
    assert request["method"] == "POST"
    assert request["path"] == "/hooks/in?token=s3cret"
    assert request["body"] == json.dumps(payload, separators=(",", ":"),
                                         ensure_ascii=False).encode()
    assert request["headers"]["Host"] == f"localhost:{server.port}"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["Content-Length"] == str(len(request["body"]))
    assert request["headers"]["Authorization"] == "Bearer t0ken"
    assert request["headers"]["X-Clarion-Event"] == "user.created"
    assert request["headers"]["User-Agent"].startswith("Clarion/")
    assert response.status == 201
    assert response.body == b'{"ok":true}'
    assert response.truncated is False
    assert response.headers["x-request-id"] == "abc-1"
    assert response.header("X-REQUEST-ID") == "abc-1"
    assert response.final_ip == "127.0.0.1"
    assert response.elapsed_ms >= 0


def test_raw_body_is_sent_as_given(serve, allow_loopback):
    server = serve(reply(204))

    outbound_request("PUT", f"http://127.0.0.1:{server.port}/x", body=b"\x00raw\xff",
                     headers={"Content-Type": "application/octet-stream"})

    assert server.requests[0]["method"] == "PUT"
    assert server.requests[0]["body"] == b"\x00raw\xff"
    assert server.requests[0]["headers"]["Content-Type"] == "application/octet-stream"


def test_redirect_is_returned_and_not_followed(serve, allow_loopback):
    def respond(handler):
        if handler.path == "/start":
            reply(302, headers={"Location": f"http://127.0.0.1:{server.port}/target"})(handler)
        else:
            reply(200, b"followed")(handler)

    server = serve(respond)

    response = outbound_request("GET", f"http://127.0.0.1:{server.port}/start")

    assert response.status == 302
    assert response.header("Location") == f"http://127.0.0.1:{server.port}/target"
    assert [r["path"] for r in server.requests] == ["/start"]


@pytest.mark.parametrize(("size", "cap", "truncated"),
                         [(1000, 1000, False), (1000, 999, True), (300_000, 4096, True)])
def test_body_is_read_up_to_the_cap(serve, allow_loopback, size, cap, truncated):
    body = bytes(i % 251 for i in range(size))
    server = serve(reply(200, body))

    response = outbound_request("GET", f"http://127.0.0.1:{server.port}/",
                                max_response_bytes=cap)

    assert response.truncated is truncated
    assert response.body == body[:cap]


def test_endless_body_stops_at_the_cap(serve, allow_loopback):
    def endless(handler):
        handler.send_response(200)  # no Content-Length: the body runs until the server stops
        handler.end_headers()
        while True:
            handler.wfile.write(b"x" * 65536)

    server = serve(endless)

    response = outbound_request("GET", f"http://127.0.0.1:{server.port}/",
                                max_response_bytes=10_000)

    assert response.truncated is True
    assert response.body == b"x" * 10_000


def test_addresses_are_tried_in_order_until_one_connects(serve, allow_loopback, fake_dns):
    server = serve(reply(200, b"second"))
    fake_dns.answer("two.example.test", ["127.0.0.2", "127.0.0.1"])  # nothing on 127.0.0.2

    response = outbound_request("GET", f"http://two.example.test:{server.port}/")

    assert response.body == b"second"
    assert response.final_ip == "127.0.0.1"
    assert server.requests[0]["headers"]["Host"] == f"two.example.test:{server.port}"


# --- timeouts -----------------------------------------------------------------------------


def test_server_that_answers_too_late_times_out(serve, allow_loopback, outbound_settings):
    outbound_settings.OUTBOUND_TOTAL_TIMEOUT = 1

    def late(handler):
        time.sleep(3)
        reply(200)(handler)

    server = serve(late)

    with pytest.raises(OutboundTimeout) as info:
        outbound_request("GET", f"http://127.0.0.1:{server.port}/slow?token=s3cret")
    assert info.value.kind == "timeout"
    assert "s3cret" not in str(info.value)


@pytest.mark.parametrize("drip", ["headers", "body"])
def test_slow_drip_is_cut_at_the_total_deadline(serve, allow_loopback, outbound_settings, drip):
    # Each byte arrives well within any per-read timeout; only a total deadline stops this.
    outbound_settings.OUTBOUND_TOTAL_TIMEOUT = 1
    head = b"HTTP/1.0 200 OK\r\nContent-Length: 40\r\nX-Pad: " + b"p" * 40 + b"\r\n\r\n"

    def dripping(handler):
        data = head + b"b" * 40
        start = 0 if drip == "headers" else len(head)
        handler.wfile.write(data[:start])
        for i in range(start, len(data)):
            handler.wfile.write(data[i:i + 1])
            handler.wfile.flush()
            time.sleep(0.1)

    server = serve(dripping)

    with pytest.raises(OutboundTimeout):
        outbound_request("GET", f"http://127.0.0.1:{server.port}/")


# --- address policy -----------------------------------------------------------------------

LOOPBACK_SPELLINGS = [
    "http://127.0.0.1:{port}/",
    "http://2130706433:{port}/",  # decimal
    "http://0177.0.0.1:{port}/",  # octal
    "http://0x7f.1:{port}/",  # hex, short form
    "http://127.1:{port}/",  # short form
    "http://[::ffff:127.0.0.1]:{port}/",  # IPv4-mapped IPv6
    "http://localhost:{port}/",  # a name that resolves to loopback
]


@pytest.mark.parametrize("template", LOOPBACK_SPELLINGS)
def test_loopback_in_any_spelling_is_refused_without_connecting(serve, template):
    server = serve(reply(200))
    url = template.format(port=server.port)

    with pytest.raises(BlockedAddress) as info:
        outbound_request("GET", url)
    with pytest.raises(BlockedAddress):
        url_check(url)

    assert info.value.kind == "blocked"
    assert "127.0.0.1" in info.value.ip and "loopback" in str(info.value)
    assert "127.0.0.1" in str(info.value)
    assert server.connections == 0


def test_ipv6_loopback_is_refused_without_connecting(serve):
    server = serve(reply(200), host="::1")

    with pytest.raises(BlockedAddress, match=r"::1.*loopback"):
        outbound_request("GET", f"http://[::1]:{server.port}/")
    assert server.connections == 0


def test_loopback_is_allowed_once_allowlisted(serve, outbound_settings):
    server = serve(reply(200, b"hello"))
    url = f"http://127.0.0.1:{server.port}/"
    with pytest.raises(BlockedAddress):
        outbound_request("GET", url)

    outbound_settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]  # read at call time

    assert outbound_request("GET", url).body == b"hello"
    url_check(url)
    # The mapped spelling is the same host, so the IPv4 allowlist covers it too.
    assert outbound_request("GET", f"http://[::ffff:127.0.0.1]:{server.port}/").status == 200


@pytest.mark.parametrize(("url", "reason"), [
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://10.0.0.1/", "private"),
    ("http://172.16.0.1/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://100.64.0.1/", "CGNAT"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://0.1.2.3/", "this network"),
    ("http://255.255.255.255/", "broadcast"),
    ("http://224.0.0.1/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://[::]/", "unspecified"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[fc00::1]/", "private"),
    ("http://[fec0::1]/", "site-local"),
    ("http://[ff02::1]/", "multicast"),
    ("http://[::ffff:169.254.169.254]/", "169.254.169.254 is link-local"),
    ("http://[::ffff:10.0.0.1]/", "10.0.0.1 is private"),
    ("http://[64:ff9b::a9fe:a9fe]/", "169.254.169.254 is link-local"),  # NAT64
    ("http://[2002:7f00:1::]/", "6to4 for 127.0.0.1"),
    ("http://[2002:a00:1::]/", "6to4 for 10.0.0.1"),
    ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "Teredo"),
    ("http://[::7f00:1]/", "reserved"),  # IPv4-compatible, deprecated
    ("http://[2001:db8::1]/", "private"),  # documentation range
])
def test_non_public_addresses_are_refused_before_any_connect(connect_attempts, url, reason):
    with pytest.raises(BlockedAddress) as info:
        outbound_request("POST", url, json={"x": 1})

    assert reason in str(info.value)
    assert connect_attempts == []


@pytest.mark.parametrize("url", [
    "http://8.8.8.8/",
    "https://[2606:4700:4700::1111]/",
    "http://[2002:808:808::]/",  # 6to4 of a public address
    "http://[64:ff9b::808:808]/",  # NAT64 of a public address
])
def test_public_addresses_pass_the_check(url):
    url_check(url)


def test_one_refused_answer_refuses_the_whole_name(serve, fake_dns, outbound_settings):
    outbound_settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    server = serve(reply(200))
    fake_dns.answer("mixed.example.test", ["127.0.0.1", "10.0.0.1"])

    with pytest.raises(BlockedAddress, match=r"10\.0\.0\.1.*private"):
        outbound_request("GET", f"http://mixed.example.test:{server.port}/")
    assert server.connections == 0


def test_name_is_resolved_once_and_the_checked_address_is_called(serve, fake_dns,
                                                                 outbound_settings):
    # Rebinding: the name's first answer passes the check, any later answer points at an
    # address the policy refuses (127.0.0.2 stands in for it: only 127.0.0.1 is allowed).
    # Resolving again to connect would reach the second server; the door must connect to
    # the literal IP it checked, so the second server never sees a connection.
    outbound_settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    checked = serve(reply(200, b"checked"))
    rebound = serve(reply(200, b"rebound"), host="127.0.0.2", port=checked.port)
    fake_dns.answer("rebind.example.test", ["127.0.0.1"], ["127.0.0.2"])

    response = outbound_request("GET", f"http://rebind.example.test:{checked.port}/")

    assert response.body == b"checked"
    assert fake_dns.calls == ["rebind.example.test"]
    assert checked.requests[0]["headers"]["Host"] == f"rebind.example.test:{checked.port}"
    assert rebound.connections == 0


def test_a_passed_url_check_is_no_pass_for_the_request(serve, fake_dns, outbound_settings):
    outbound_settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    rebound = serve(reply(200), host="127.0.0.2")
    fake_dns.answer("rebind.example.test", ["127.0.0.1"], ["127.0.0.2"])
    url = f"http://rebind.example.test:{rebound.port}/"

    url_check(url)
    with pytest.raises(BlockedAddress, match=r"127\.0\.0\.2.*loopback"):
        outbound_request("GET", url)
    assert rebound.connections == 0


def test_bad_allowlist_entry_fails_loudly(outbound_settings):
    outbound_settings.OUTBOUND_ALLOWED_NETWORKS = ["10.0.0.0/33"]

    with pytest.raises(ImproperlyConfigured, match="OUTBOUND_ALLOWED_NETWORKS"):
        url_check("http://127.0.0.1/")


# --- failures -----------------------------------------------------------------------------


def test_refused_port_raises_connect_error(allow_loopback):
    port = free_port()

    with pytest.raises(ConnectError) as info:
        outbound_request("GET", f"http://127.0.0.1:{port}/hook?token=s3cret",
                         headers={"Authorization": "Bearer t0ken"}, body=b"secret-body")

    assert info.value.kind == "connect"
    message = str(info.value)
    assert f"127.0.0.1:{port}" in message
    for secret in ("s3cret", "t0ken", "secret-body", "/hook"):
        assert secret not in message


def test_unresolvable_name_raises_dns_error():
    with pytest.raises(DnsError) as info:
        outbound_request("GET", "http://nonexistent.invalid/")
    assert info.value.kind == "dns"
    assert "nonexistent.invalid" in str(info.value)


def test_non_http_answer_raises_bad_response(allow_loopback):
    listener = socket.create_server(("127.0.0.1", 0))

    def garbage():
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"this is not http\r\n\r\n")

    thread = threading.Thread(target=garbage, daemon=True)
    thread.start()
    with listener, pytest.raises(BadResponse) as info:
        outbound_request("GET", f"http://127.0.0.1:{listener.getsockname()[1]}/")
    thread.join(5)
    assert info.value.kind == "protocol"


def test_https_dials_the_checked_ip_and_sends_the_original_name_as_sni(fake_dns,
                                                                       allow_loopback):
    # No certificate can be made here, so the server only reads the ClientHello (which
    # carries SNI in clear) and answers with plain HTTP, which fails the handshake.
    listener = socket.create_server(("127.0.0.1", 0))
    hello = bytearray()

    def read_client_hello():
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(5)
            while len(hello) < 5 or len(hello) < 5 + int.from_bytes(hello[3:5], "big"):
                chunk = conn.recv(4096)
                if not chunk:
                    break
                hello.extend(chunk)
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=read_client_hello, daemon=True)
    thread.start()
    fake_dns.answer("hooks.example.test", ["127.0.0.1"])
    port = listener.getsockname()[1]

    with listener, pytest.raises(TlsError) as info:
        outbound_request("GET", f"https://hooks.example.test:{port}/x?token=s3cret")
    thread.join(5)

    assert hello[:1] == b"\x16"  # a TLS handshake record reached 127.0.0.1
    assert b"hooks.example.test" in hello
    assert b"127.0.0.1" not in hello
    assert info.value.kind == "tls"
    assert "s3cret" not in str(info.value)


def test_https_verifies_the_certificate_against_the_original_name(
        tls_server, test_ca, fake_dns, allow_loopback, monkeypatch):
    # OpenSSL reads SSL_CERT_FILE whenever a context loads the default trust store.
    monkeypatch.setenv("SSL_CERT_FILE", test_ca["ca"])
    fake_dns.answer("hooks.example.test", ["127.0.0.1"])

    response = outbound_request("GET", f"https://hooks.example.test:{tls_server.port}/x")

    assert response.body == b"over tls"
    assert response.final_ip == "127.0.0.1"
    assert tls_server.requests[0]["headers"]["Host"] == f"hooks.example.test:{tls_server.port}"


def test_https_refuses_a_certificate_for_another_name(
        tls_server, test_ca, fake_dns, allow_loopback, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", test_ca["ca"])
    fake_dns.answer("other.example.test", ["127.0.0.1"])

    with pytest.raises(TlsError, match="other.example.test.*[Hh]ostname mismatch"):
        outbound_request("GET", f"https://other.example.test:{tls_server.port}/")
    assert tls_server.requests == []


def test_https_refuses_an_untrusted_certificate(tls_server, fake_dns, allow_loopback,
                                                monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    fake_dns.answer("hooks.example.test", ["127.0.0.1"])

    with pytest.raises(TlsError, match="certificate verify failed"):
        outbound_request("GET", f"https://hooks.example.test:{tls_server.port}/")
    assert tls_server.requests == []


@pytest.mark.parametrize("url", [
    "ftp://example.com/file",
    "file:///etc/passwd",
    "gopher://example.com/",
    "example.com/hook",
    "//example.com/hook",
    "",
    "http://",
    "http:///path",
    "http://:8080/",
    "http://user:pass@example.com/",
    "http://user@example.com/",
    "http://example.com:0/",
    "http://example.com:65536/",
    "http://example.com:http/",
    "http://[::1/",
    "http://exa mple.com/",
    "http://example.com/\r\nX-Injected: 1",
    "http://a..b/",
    "http://exa$mple.com/",
])
def test_invalid_urls_are_refused(connect_attempts, url):
    with pytest.raises(InvalidUrl) as info:
        url_check(url)
    with pytest.raises(InvalidUrl):
        outbound_request("GET", url)
    assert info.value.kind == "invalid_url"
    assert connect_attempts == []


def test_credentials_in_url_are_refused_and_not_echoed(serve, allow_loopback):
    server = serve(reply(200))

    with pytest.raises(InvalidUrl, match="credentials") as info:
        outbound_request("GET", f"http://admin:hunter2@127.0.0.1:{server.port}/")

    assert "hunter2" not in str(info.value)
    assert server.connections == 0


@pytest.mark.parametrize("headers", [
    {"X-Evil": "ok\r\nX-Injected: 1"},
    {"Bad Name": "value"},
    {"Host": "elsewhere.example"},
    {"Content-Length": "0"},
])
def test_malformed_or_reserved_headers_are_refused_without_echoing_values(
        serve, allow_loopback, headers):
    server = serve(reply(200))

    with pytest.raises(ValueError) as info:
        outbound_request("GET", f"http://127.0.0.1:{server.port}/", headers=headers)

    assert "Injected" not in str(info.value)
    assert server.connections == 0


def test_every_error_has_its_machine_kind():
    kinds = {cls.__name__: cls.kind for cls in OutboundError.__subclasses__()}
    assert kinds == {"InvalidUrl": "invalid_url", "BlockedAddress": "blocked", "DnsError": "dns",
                     "ConnectError": "connect", "TlsError": "tls", "OutboundTimeout": "timeout",
                     "BadResponse": "protocol"}


# --- trusted calls: hosts the operator configured (Matrix homeserver, Mattermost) ----------


def test_trusted_call_reaches_an_operator_host_on_loopback_without_an_allowlist(serve):
    server = serve(reply(200, b"homeserver"))
    url = f"http://127.0.0.1:{server.port}/_matrix/client/versions"
    with pytest.raises(BlockedAddress):
        outbound_request("GET", url)

    response = outbound_request("GET", url, trusted=True)

    assert response.body == b"homeserver" and response.final_ip == "127.0.0.1"
    assert server.requests[0]["path"] == "/_matrix/client/versions"


def test_trusted_call_still_does_not_follow_redirects(serve):
    server = serve(reply(307, headers={"Location": "http://127.0.0.1:1/elsewhere"}))

    response = outbound_request("PUT", f"http://127.0.0.1:{server.port}/x", json={},
                                trusted=True)

    assert response.status == 307 and len(server.requests) == 1


def test_trusted_call_still_has_the_total_deadline(serve, outbound_settings):
    outbound_settings.OUTBOUND_TOTAL_TIMEOUT = 1
    release = threading.Event()

    def never(handler):
        release.wait(5)

    server = serve(never)
    try:
        with pytest.raises(OutboundTimeout):
            outbound_request("GET", f"http://127.0.0.1:{server.port}/", trusted=True)
    finally:
        release.set()


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://user:pw@127.0.0.1/",
                                 "gopher://127.0.0.1/"])
def test_trusted_call_still_refuses_malformed_urls(connect_attempts, url):
    with pytest.raises(InvalidUrl):
        outbound_request("GET", url, trusted=True)
    assert connect_attempts == []


def test_trusted_call_to_an_unresolvable_name_raises_dns_error():
    with pytest.raises(DnsError):
        outbound_request("GET", "http://no-such-host.invalid/", trusted=True)


@pytest.mark.parametrize("method", ["PUT", "GET", "POST"])
def test_a_connection_dropped_before_the_answer_is_not_sent_again(allow_loopback, method):
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)
    received: list[bytes] = []

    def hang_up_after_reading():
        for _ in range(2):  # a second request would be a retry
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                received.append(conn.recv(65536))

    thread = threading.Thread(target=hang_up_after_reading, daemon=True)
    thread.start()
    with pytest.raises(BadResponse) as info:
        outbound_request(method, f"http://127.0.0.1:{listener.getsockname()[1]}/txn/1",
                         body=b"once")
    listener.close()
    thread.join(5)

    assert info.value.kind == "protocol"
    assert len(received) == 1
