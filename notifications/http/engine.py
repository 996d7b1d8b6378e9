"""Making the calls: one event loop and one aiohttp session for a whole batch.

Every call resolves its host and judges each address (``addresses.resolve_checked``)
before anything is dialled; the session's resolver then answers aiohttp with exactly
those checked addresses, so aiohttp connects only where the policy allowed, while the
URL keeps the original name for the Host header, SNI and certificate checks.
Connections are kept alive *within* the batch, so a hundred messages to one
receiver cost a handful of TCP (and TLS) handshakes instead of a hundred — each
was opened to an address that had just been checked.

A call waits for a slot (``OUTBOUND_PER_HOST_CONCURRENCY`` per host,
``OUTBOUND_BATCH_CONCURRENCY`` in all) before its clock starts; from then one
deadline covers resolving, connecting, sending and reading, however slowly the
far end drips. Nothing is retried and no redirect is followed. Failures come back
as ``OutboundError`` values in the caller's order, never raised, and their
messages name scheme, host, port and address, never paths, queries, headers or
bodies.
"""

from __future__ import annotations

import asyncio
import contextvars
import socket
import ssl
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from django.conf import settings
from yarl import URL

from notifications.http.addresses import Target, resolve, resolve_checked
from notifications.http.errors import (
    BadResponse,
    ConnectError,
    OutboundError,
    OutboundResponse,
    OutboundTimeout,
    TlsError,
)


@dataclass(frozen=True)
class PreparedCall:
    """One request, validated: what is sent is exactly this."""

    method: str
    target: Target
    headers: dict[str, str]
    body: bytes | None
    total_timeout: float
    max_response_bytes: int
    trusted: bool = False


def perform(calls: Sequence[PreparedCall]) -> list[OutboundResponse | OutboundError]:
    """Make every call, concurrently within the limits; results in the order of ``calls``."""
    if not calls:
        return []
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_perform_all(calls))
    # Called from async code: the batch gets a loop of its own on another thread.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbound") as pool:
        return pool.submit(asyncio.run, _perform_all(calls)).result()


class _CheckedResolver(AbstractResolver):
    """Answers aiohttp with the addresses each call has just checked, nothing else."""

    def __init__(self) -> None:
        self.checked: dict[tuple[str, int], list[str]] = {}

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        ips = self.checked.get((host, port))
        if not ips:  # every call registers its host first; fail closed if one did not
            raise OSError(f"{host} was not resolved through the address policy")
        flags = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
        return [ResolveResult(hostname=host, host=ip, port=port, proto=0, flags=flags,
                              family=socket.AF_INET6 if ":" in ip else socket.AF_INET)
                for ip in ips]

    async def close(self) -> None:
        pass


class _Connector(aiohttp.TCPConnector):
    """Notes on the call in progress which checked address its connection reached (a
    fresh one, or one kept alive from earlier in the batch)."""

    async def connect(self, req, traces, timeout):  # noqa: ANN001, ANN201 — aiohttp's own
        connection = await super().connect(req, traces, timeout)
        progress = _IN_PROGRESS.get(None)
        transport = connection.transport
        peer = transport.get_extra_info("peername") if transport is not None else None
        if progress is not None and peer:
            progress.ip = str(peer[0])
        return connection


@dataclass
class _Gates:
    """Slots: one semaphore for the batch, one per host."""

    overall: asyncio.Semaphore
    per_host_limit: int
    hosts: dict[str, asyncio.Semaphore] = field(default_factory=dict)

    def host(self, name: str) -> asyncio.Semaphore:
        return self.hosts.setdefault(name, asyncio.Semaphore(self.per_host_limit))


async def _perform_all(calls: Sequence[PreparedCall]) -> list[OutboundResponse | OutboundError]:
    resolver = _CheckedResolver()
    # Only a batch with https calls pays for loading the trust store (read now, so the
    # current SSL_CERT_FILE applies).
    tls = ssl.create_default_context() if any(c.target.scheme == "https" for c in calls) else None
    connector = _Connector(resolver=resolver, use_dns_cache=False, limit=0,
                                     limit_per_host=0, ssl=tls or False)
    gates = _Gates(asyncio.Semaphore(settings.OUTBOUND_BATCH_CONCURRENCY),
                   settings.OUTBOUND_PER_HOST_CONCURRENCY)
    # No cookies (one receiver's Set-Cookie must not reach the next), no proxy from the
    # environment, bodies left as sent (the cap counts the bytes on the wire).
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                     auto_decompress=False, trust_env=False,
                                     skip_auto_headers=("Accept", "Accept-Encoding")) as session:
        # aiohttp sends an idempotent request (PUT, GET, ...) again when the connection drops
        # before the answer; the door never retries (the caller owns retries and records
        # each attempt), and this switch has no public spelling.
        session._retry_connection = False  # noqa: SLF001
        return list(await asyncio.gather(
            *(_perform_one(session, resolver, gates, call) for call in calls)))


async def _perform_one(session: aiohttp.ClientSession, resolver: _CheckedResolver,
                       gates: _Gates, call: PreparedCall) -> OutboundResponse | OutboundError:
    async with gates.host(call.target.host), gates.overall:
        started = time.monotonic()
        progress = _Progress(call.target)
        _IN_PROGRESS.set(progress)  # each call runs in a task of its own, with its own context
        try:
            async with asyncio.timeout(call.total_timeout):
                return await _exchange(session, resolver, call, progress, started)
        except TimeoutError:
            return OutboundTimeout(progress.late(call.total_timeout))
        except OutboundError as exc:
            return exc


@dataclass
class _Progress:
    """How far a call got, for the message when its deadline cuts it short."""

    target: Target
    stage: str = "resolving"
    ip: str = ""

    def late(self, total: float) -> str:
        late = f"took longer than {total:g}s"
        if self.stage == "resolving":
            return f"resolving {self.target.host} {late}"
        if self.stage == "connecting":
            return f"could not connect to {self.target} in time ({late})"
        return f"{self.target} ({self.ip}) {late}"


_IN_PROGRESS: contextvars.ContextVar[_Progress] = contextvars.ContextVar("outbound_call")


async def _exchange(session: aiohttp.ClientSession, resolver: _CheckedResolver,
                    call: PreparedCall, progress: _Progress,
                    started: float) -> OutboundResponse:
    target = call.target
    ips = await _resolved(target, call.trusted)
    resolver.checked[(target.host, target.port)] = ips
    progress.stage, progress.ip = "connecting", ips[0]
    url = URL(f"{target.scheme}://{_authority(target)}{target.request_target}", encoded=True)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=settings.OUTBOUND_CONNECT_TIMEOUT)
    try:
        response = await session.request(call.method, url, headers=call.headers, data=call.body,
                                         allow_redirects=False, timeout=timeout)
    except aiohttp.ClientConnectorCertificateError as exc:
        raise TlsError(f"TLS handshake with {target} failed: {exc.certificate_error}") from None
    except aiohttp.ClientConnectorSSLError as exc:
        raise TlsError(f"TLS handshake with {target} failed: {exc.os_error}") from None
    except aiohttp.ClientConnectorError as exc:
        why = exc.os_error.strerror or str(exc.os_error) or type(exc.os_error).__name__
        raise ConnectError(f"could not connect to {target}: {why}") from None
    except aiohttp.ServerTimeoutError:
        raise OutboundTimeout(f"could not connect to {target} in time (no answer within "
                              f"{settings.OUTBOUND_CONNECT_TIMEOUT:g}s)") from None
    except (aiohttp.ClientError, OSError) as exc:
        raise _broken(target, progress.ip, exc) from None
    try:
        progress.stage = "exchanging"
        try:
            body, truncated = await _read_capped(response, call.max_response_bytes)
        except (aiohttp.ClientError, OSError) as exc:
            raise _broken(target, progress.ip, exc) from None
        headers = {name.lower(): ", ".join(response.headers.getall(name))
                   for name in response.headers.keys()}  # noqa: SIM118 — a multidict
        return OutboundResponse(status=response.status, body=body, truncated=truncated,
                                headers=headers, final_ip=progress.ip,
                                elapsed_ms=int((time.monotonic() - started) * 1000))
    finally:
        # A body left unread closes its connection instead of returning it to the pool.
        response.release() if response.content.at_eof() else response.close()


async def _resolved(target: Target, trusted: bool) -> list[str]:
    check = resolve if trusted else resolve_checked
    if _is_ip_literal(target.host):
        return check(target)  # nothing to look up: judged at once, no thread hop
    return await asyncio.get_running_loop().run_in_executor(None, check, target)


def _is_ip_literal(host: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    except OSError:
        return False
    return True


def _authority(target: Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    return f"{host}:{target.port}"


def _broken(target: Target, ip: str, exc: BaseException) -> OutboundError:
    if isinstance(exc, ssl.SSLError | aiohttp.ClientSSLError):
        return TlsError(f"TLS failure talking to {target} ({ip}): {exc}")
    return BadResponse(f"{target} ({ip}) broke off or answered with invalid HTTP "
                       f"({type(exc).__name__})")


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> tuple[bytes, bool]:
    """Read at most ``limit`` bytes, plus one to learn whether more was coming."""
    buf = bytearray()
    while len(buf) <= limit:
        chunk = await response.content.read(limit + 1 - len(buf))
        if not chunk:
            break
        buf += chunk
    return bytes(buf[:limit]), len(buf) > limit
