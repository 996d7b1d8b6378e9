"""Expo's push service: up to 100 messages a request, one ticket each, in order.

A ticket with ``DeviceNotRegistered`` means the app was uninstalled or the token
expired: the device is removed. ``MessageRateExceeded``, 429 and 5xx are tried
again later; a refused access token is the operator's to fix and is retried too.
The URL is the operator's setting (``EXPO_PUSH_URL``), so it skips the address
policy like other operator-configured servers.
"""

from __future__ import annotations

import json
from dataclasses import replace

from django.conf import settings

from notifications.http import OutboundCall, OutboundError, outbound_requests
from notifications.providers.chat_http import body_json, retry_after
from push.content import PushMessage, size_check
from push.models import Device
from push.senders.base import DeviceResult, unreachable

PER_REQUEST = 100


def configured() -> bool:
    return settings.EXPO_ENABLED


def send(devices: list[Device], message: PushMessage, *, delivery_id) -> list[DeviceResult]:
    extra = {"badge": message.badge} if message.badge is not None else {}
    bodies = [{"to": device.token, "title": message.title, "body": message.body,
               "data": {**message.data, "url": message.url},
               "sound": message.sound or "default", "priority": "high", **extra}
              for device in devices]
    for body in bodies:
        size_check("expo", json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())
    headers = {"Accept": "application/json"}
    if settings.EXPO_ACCESS_TOKEN:
        headers["Authorization"] = f"Bearer {settings.EXPO_ACCESS_TOKEN}"
    chunks = [bodies[i:i + PER_REQUEST] for i in range(0, len(bodies), PER_REQUEST)]
    answers = outbound_requests([OutboundCall("POST", settings.EXPO_PUSH_URL, headers=headers,
                                              json=chunk, trusted=True) for chunk in chunks])
    results: list[DeviceResult] = []
    for chunk, answer in zip(chunks, answers, strict=True):
        results += _judged(answer, len(chunk))
    # Expo's messages quote the token ('"ExponentPushToken[…]" is not a registered push
    # token'); errors are shown in the admin and the API, so the token is masked there.
    return [replace(result, error=result.error.replace(device.token, device.masked_token))
            if device.token in result.error else result
            for device, result in zip(devices, results, strict=True)]


def _judged(answer, count: int) -> list[DeviceResult]:
    if isinstance(answer, OutboundError):
        return [unreachable("Expo", answer)] * count
    status = answer.status
    document = body_json(answer)
    if status != 200:
        errors = document.get("errors")
        said = "; ".join(f"{e.get('code', '')} {e.get('message', '')}".strip()
                         for e in errors or [] if isinstance(e, dict)) or f"HTTP {status}"
        if status in (401, 403):
            result = DeviceResult("retry", f"Expo refused Clarion's access token ({said}); "
                                           f"check EXPO_ACCESS_TOKEN.", status)
        elif status == 429 or status >= 500:
            result = DeviceResult("retry", f"Expo answered {said}", status,
                                  retry_after=retry_after(answer))
        else:
            result = DeviceResult("failed", f"Expo refused the request ({said})", status)
        return [result] * count
    tickets = document.get("data")
    if not isinstance(tickets, list) or len(tickets) != count:
        return [DeviceResult("retry", "Expo answered without a ticket for each message.")] * count
    return [_ticket(ticket) for ticket in tickets]


def _ticket(ticket) -> DeviceResult:
    if not isinstance(ticket, dict):
        return DeviceResult("retry", "Expo answered with a malformed ticket.")
    if ticket.get("status") == "ok":
        return DeviceResult("sent", message_id=str(ticket.get("id", "")))
    details = ticket.get("details") if isinstance(ticket.get("details"), dict) else {}
    code = details.get("error", "")
    said = f"{code}: {ticket.get('message', '')}".strip(": ")
    if code == "DeviceNotRegistered":
        return DeviceResult("gone", f"Expo says the device is not registered ({said}): the "
                                    f"device was removed.")
    if code == "MessageRateExceeded":
        return DeviceResult("retry", f"Expo is rate limiting this device ({said})")
    if code == "InvalidCredentials":
        return DeviceResult("retry", f"Expo has no valid push credentials for the app ({said}); "
                                     f"upload them to Expo.")
    return DeviceResult("failed", f"Expo refused the message ({said})")
