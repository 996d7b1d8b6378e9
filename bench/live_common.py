"""Shared by the live benchmarks: Django set-up on the production shape, servers, clients, RSS.

The benchmarks need PostgreSQL and Redis (``DATABASE_URL``, ``REDIS_URL``);
each server runs as its own uvicorn process, exactly as deployed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
    sys.exit("Set DATABASE_URL (PostgreSQL) and REDIS_URL: the live benchmarks run on the production shape.")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-0123456789abcdef")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
# A prefix of this run's own, so nothing else on the Redis sees or sends its messages.
os.environ.setdefault("LIVE_CHANNEL_PREFIX", f"bench{uuid.uuid4().hex[:6]}")

import django  # noqa: E402

django.setup()

# As the README recommends for production (and scripts/serve.sh runs): no per-message
# compression, which would double the memory of an idle socket.
UVICORN_FLAGS = ["--host", "127.0.0.1", "--lifespan", "off", "--log-level", "warning",
                 "--ws-per-message-deflate", "false", "--no-access-log"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A uvicorn process serving ``app``; ``rss_kb`` reads its resident memory."""

    def __init__(self, app: str, label: str):
        self.port, self.label = free_port(), label
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws = f"ws://127.0.0.1:{self.port}"
        log = Path(tempfile.gettempdir()) / f"clarion-bench-{label}.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", app, "--port", str(self.port), *UVICORN_FLAGS],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=log.open("w"),
            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit(f"{label} did not start; see {log}")
        # Load the application (Django's first request is slow) before anything is measured.
        try:
            urllib.request.urlopen(f"{self.url}/api/status/ping", timeout=10).read()  # noqa: S310
        except OSError:
            pass

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def profile(server: Server) -> subprocess.Popen | None:
    """With BENCH_PROFILE=FILE, sample the server with py-spy while the rounds run (collapsed stacks)."""
    target = os.environ.get("BENCH_PROFILE")
    if not target:
        return None
    return subprocess.Popen(["py-spy", "record", "--format", "raw", "-r", "500", "-o", target,
                             "--pid", str(server.process.pid)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def stop_profile(profiler: subprocess.Popen | None) -> None:
    if profiler is not None:
        profiler.send_signal(signal.SIGINT)
        profiler.wait()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": statistics.median(values), "p99": percentile(values, 0.99), "max": max(values)}


async def gather_limited(coroutines, limit: int = 200):
    gate = asyncio.Semaphore(limit)

    async def one(coroutine):
        async with gate:
            return await coroutine
    return await asyncio.gather(*(one(c) for c in coroutines))
