"""Twilio's API, mocked from Twilio's own OpenAPI spec by Prism, with a recorder in front.

Prism (``@stoplight/prism-cli`` from the npm registry, installed by ``npm ci``)
serves ``shared/contracts/twilio_api_v2010.json`` with ``--errors``: a request the
spec does not allow — a missing ``To``, no Basic auth, a malformed account SID —
is answered 4xx/422 instead of a canned success. Its successes are the spec's
examples, so tests assert on what was *sent*; the recorder in front keeps each
request exactly as the SDK sent it and passes it on unchanged.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from tests.notifications.providers.fake_service import FakeService, Recorded, Reply, start

REPO = Path(__file__).resolve().parents[3]
PRISM = REPO / "node_modules" / ".bin" / "prism"
SPEC = (REPO / ".." / "shared" / "contracts" / "twilio_api_v2010.json").resolve()
REQUIRE_SERVICES = os.environ.get("CLARION_REQUIRE_SERVICES") == "1"
_STARTUP_SECONDS = 90


def prism_problem() -> str | None:
    """Why the contract mock cannot run here, or None when it can."""
    if not PRISM.exists():
        return f"{PRISM.relative_to(REPO)} is missing (run `npm ci`)"
    if shutil.which("node") is None:
        return "node is not installed"
    if not SPEC.exists():
        return f"the Twilio spec is missing at {SPEC}"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Prism:
    """A running ``prism mock`` process; ``url`` is where it listens."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(self.port), "--errors", str(SPEC)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO)
        self._ready = threading.Event()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(_STARTUP_SECONDS):
            self.stop()
            raise RuntimeError("Prism did not start:\n" + "".join(self.output[-20:]))

    def _read(self) -> None:
        # Prism prints one line per route and then "Prism is listening"; the rest is
        # drained so the pipe never fills up and blocks it.
        for line in self.process.stdout:
            if len(self.output) < 200 or "error" in line.lower():
                self.output.append(line)
            if "Prism is listening" in line:
                self._ready.set()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="session")
def prism():
    problem = prism_problem()
    if problem:
        if REQUIRE_SERVICES:
            pytest.fail(f"the Twilio contract mock is required: {problem}")
        pytest.skip(f"Twilio contract mock: {problem}")
    server = Prism()
    yield server
    server.stop()


def forward_to(upstream: str):
    """A responder that passes each request on to ``upstream`` and returns its answer."""
    host, port = upstream.removeprefix("http://").split(":")

    def respond(request: Recorded) -> Reply:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host",)}
        try:
            conn.request(request.method, request.path, body=request.body, headers=headers)
            answer = conn.getresponse()
            body = answer.read()
        finally:
            conn.close()
        passed = {k: v for k, v in answer.getheaders()
                  if k.lower() not in ("content-length", "transfer-encoding", "connection")}
        return Reply(answer.status, body, passed)

    return respond


@pytest.fixture
def twilio_contract(prism, settings):
    """The SDK pointed at a recorder in front of Prism; yields the recorder."""
    recorder: FakeService = start(forward_to(prism.url))
    settings.TWILIO_API_BASE_URL = recorder.url
    yield recorder
    recorder.shutdown()
    recorder.server_close()
