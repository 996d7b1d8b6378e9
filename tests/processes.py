"""Real processes for live-delivery tests: uvicorn servers, management commands, beat, workers.

Each runs as ``make run`` or a deployment runs it — its own process, its own
environment — so what crosses processes is proven, not simulated.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Variables a test process must not inherit from the test run (they pick the setup).
SETUP_VARIABLES = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER",
                   "CELERY_QUEUE", "EMAIL_URL", "ANYMAIL_ESP", "LIVE_FEED_PATH", "CLARION_VAR_DIR")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETUP_VARIABLES}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", "SECURE_SSL_REDIRECT": "false",
                "PYTHONUNBUFFERED": "1"})
    env.update(values)
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    """Run ``manage.py`` with ``args``; return its output, failing the test if it fails."""
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)
    if done.returncode != 0:
        pytest.fail(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


class Process:
    """A long-running process in its own process group, with its output in a log file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path):
        self.args, self.env, self.log = args, env, log
        self.process: subprocess.Popen | None = None

    def start(self) -> Process:
        self.process = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=self.log.open("a"),
                                        stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def kill(self) -> None:
        """SIGKILL the whole group: no shutdown handlers — a crash."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


class WebServer(Process):
    """``uvicorn config.asgi:application`` on a free port, as ``make run`` and deployments start it."""

    def __init__(self, env: dict[str, str], log: Path, *extra: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__([sys.executable, "-m", "uvicorn", "config.asgi:application", "--host",
                          "127.0.0.1", "--port", str(self.port), "--lifespan", "off", *extra],
                         env, log)

    def start(self) -> WebServer:
        super().start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"uvicorn exited at start:\n{self.output()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/status/ping", timeout=1):  # noqa: S310
                    return self
            except OSError:
                time.sleep(0.1)
        pytest.fail(f"uvicorn did not answer within 30 s:\n{self.output()[-3000:]}")

    def post(self, path: str, body: dict, secret: str, header: str = "Authorization") -> dict:
        value = f"Bearer {secret}" if header == "Authorization" else secret
        request = urllib.request.Request(f"{self.url}{path}", data=json.dumps(body).encode(),
                                         method="POST", headers={header: value,
                                                                 "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 — local server
            return json.load(response)

    def put_register(self, user_id: str, connection_id: str, secret: str) -> dict:
        """``PUT /api/{userId}/register`` as a push-server backend calls it."""
        request = urllib.request.Request(
            f"{self.url}/api/{user_id}/register?connectionId={connection_id}", method="PUT",
            headers={"X-AUTH-TOKEN": secret})
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 — local server
            return json.load(response)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://")


def minted_secret(output: str) -> str:
    """The key secret a command printed on the line after 'The key follows'."""
    lines = output.splitlines()
    for number, line in enumerate(lines):
        if line.startswith("The key follows"):
            return lines[number + 1].strip()
    pytest.fail(f"no key in the output:\n{output}")
