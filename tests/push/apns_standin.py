"""A local APNs: HTTP/2 over TLS (hypercorn), checking what Apple documents.

Each ``POST /3/device/{token}`` must arrive over HTTP/2 with ``authorization: bearer``
an ES256 JWT signed by the test's .p8 key (``kid`` its id, ``iss`` the team, ``iat``
within the hour), ``apns-topic``, ``apns-push-type: alert``, ``apns-priority`` and a
JSON body with an ``aps.alert``. Answers are scripted per request (200 with the
``apns-id`` echoed when none is).
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypercorn.asyncio import serve
from hypercorn.config import Config


def self_signed_localhost(directory: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1 (its own CA), and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "apns-cert.pem", directory / "apns-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class Apns:
    public_key: object
    key_id: str
    team_id: str
    replies: list = field(default_factory=list)  # (status, {"reason": …} or None)
    received: list = field(default_factory=list)  # (token, headers, body)
    problems: list = field(default_factory=list)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        status, answer = 200, None
        try:
            token = self._check(scope, headers, body)
            self.received.append((token, headers, json.loads(body)))
            if self.replies:
                status, answer = self.replies.pop(0)
        except (AssertionError, KeyError, ValueError, jwt.InvalidTokenError) as exc:
            self.problems.append(f"{type(exc).__name__}: {exc}")
            status, answer = 400, {"reason": "BadRequest"}
        payload = json.dumps(answer).encode() if answer else b""
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"apns-id", headers.get("apns-id", "").encode())]})
        await send({"type": "http.response.body", "body": payload})

    def _check(self, scope, headers: dict, body: bytes) -> str:
        assert scope["http_version"] == "2", scope["http_version"]
        assert scope["method"] == "POST"
        prefix = "/3/device/"
        assert scope["path"].startswith(prefix), scope["path"]
        scheme, _, token = headers["authorization"].partition(" ")
        assert scheme == "bearer"
        assert jwt.get_unverified_header(token)["kid"] == self.key_id
        claims = jwt.decode(token, key=self.public_key, algorithms=["ES256"])
        assert claims["iss"] == self.team_id and abs(time.time() - claims["iat"]) < 3600
        assert headers["apns-topic"] and headers["apns-push-type"] == "alert"
        assert headers["apns-priority"] in ("5", "10")
        assert len(headers["apns-collapse-id"].encode()) <= 64
        document = json.loads(body)
        assert {"title", "body"} <= set(document["aps"]["alert"]), document
        return scope["path"][len(prefix):]


class ApnsServer:
    """Runs an ``Apns`` app on hypercorn in a thread; ``url`` is its https:// base."""

    def __init__(self, app: Apns, cert: Path, key: Path):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"https://localhost:{self.port}"
        config = Config()
        config.bind = [f"127.0.0.1:{self.port}"]
        config.certfile, config.keyfile = str(cert), str(key)
        config.alpn_protocols = ["h2"]
        config.accesslog = config.errorlog = None
        self._stop = None
        self._started = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._stop = asyncio.Event()
            self._loop = loop

            async def main():
                self._started.set()
                await serve(app, config, shutdown_trigger=self._stop.wait)

            loop.run_until_complete(main())

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        self._started.wait(5)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.02)

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(5)
