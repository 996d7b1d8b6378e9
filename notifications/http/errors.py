"""What the outbound door raises and returns: one exception per failure kind, and the response."""

from __future__ import annotations

from dataclasses import dataclass


class OutboundError(Exception):
    """Base of every refusal or failure; ``kind`` is the short code callers record."""

    kind = "error"


class InvalidUrl(OutboundError):
    kind = "invalid_url"


class BlockedAddress(OutboundError):
    """The host resolved to an address the policy refuses; ``ip`` and ``reason`` say which."""

    kind = "blocked"

    def __init__(self, host: str, ip: str, reason: str):
        super().__init__(f"{host} resolves to {ip}, which is refused: {reason}")
        self.ip, self.reason = ip, reason


class DnsError(OutboundError):
    kind = "dns"


class ConnectError(OutboundError):
    kind = "connect"


class TlsError(OutboundError):
    kind = "tls"


class OutboundTimeout(OutboundError):
    kind = "timeout"


class BadResponse(OutboundError):
    """The far end broke off mid-exchange or answered with something that is not HTTP."""

    kind = "protocol"


@dataclass(frozen=True)
class OutboundResponse:
    """What came back. ``headers`` has lower-cased names; ``body`` stops at the cap."""

    status: int
    headers: dict[str, str]
    body: bytes
    truncated: bool
    elapsed_ms: int
    final_ip: str

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)
