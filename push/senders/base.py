"""What a sender says about one device."""

from __future__ import annotations

from dataclasses import dataclass

from notifications.http import OutboundError


@dataclass(frozen=True)
class DeviceResult:
    outcome: str  # an ``AttemptOutcome`` value
    error: str = ""
    status_code: int | None = None
    message_id: str = ""
    retry_after: float | None = None


def unreachable(service: str, exc: OutboundError) -> DeviceResult:
    """The service could not be reached or answered garbage: worth another try later."""
    return DeviceResult("retry", f"{service} could not be reached: {exc}")
