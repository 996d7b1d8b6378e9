"""Apple Push Notification service over HTTP/2 with token (.p8) authentication.

The provider token is an ES256 JWT (``kid`` the key id, ``iss`` the team, ``iat``
now), made again every 50 minutes (Apple refuses one older than an hour and one
refreshed more often than every 20 minutes). One HTTP/2 connection per batch
carries every device's ``POST /3/device/{token}``. ``apns-id`` is derived from the
delivery and the device, and ``apns-collapse-id`` is the delivery, so a retry
never shows the same message twice on a device.

410 ``Unregistered`` and 400 ``BadDeviceToken`` remove the device; 429 and 5xx are
retried; a refused provider token (403) is the operator's to fix and is retried
too. The servers are the operator's settings (``APNS_BASE_URL``,
``APNS_SANDBOX_BASE_URL``); HTTP/2 is required, so these calls use ``httpx``
rather than the outbound door, which is for addresses users enter.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
import uuid
from pathlib import Path

import httpx
import jwt
from django.conf import settings

from notifications.providers.chat_http import retry_after_seconds
from push.content import PushMessage, size_check
from push.models import ApnsEnvironment, Device
from push.senders.base import DeviceResult

_TOKEN_LIFETIME = 50 * 60
_GONE = {"Unregistered": "the app was removed from the device",
         "BadDeviceToken": "the device token is not valid"}
_token: tuple[float, str, str] | None = None  # (made at, key path, JWT)
_lock = threading.Lock()


def configured() -> bool:
    return bool(settings.APNS_KEY_FILE and settings.APNS_KEY_ID and settings.APNS_TEAM_ID)


def provider_token(*, fresh: bool = False) -> str:
    global _token
    with _lock:
        now = time.time()
        if (fresh or _token is None or now - _token[0] > _TOKEN_LIFETIME
                or _token[1] != settings.APNS_KEY_FILE):
            key = Path(settings.APNS_KEY_FILE).read_text()
            made = jwt.encode({"iss": settings.APNS_TEAM_ID, "iat": int(now)}, key,
                              algorithm="ES256", headers={"kid": settings.APNS_KEY_ID})
            _token = (now, settings.APNS_KEY_FILE, made)
        return _token[2]


def forget_token() -> None:
    global _token
    _token = None


def send(devices: list[Device], message: PushMessage, *, delivery_id) -> list[DeviceResult]:
    aps = {"alert": {"title": message.title, "body": message.body},
           "sound": message.sound or "default"}
    if message.badge is not None:
        aps["badge"] = message.badge
    body = json.dumps({"aps": aps,
                       **({"url": message.url} if message.url else {}), **message.data},
                      separators=(",", ":"), ensure_ascii=False).encode()
    size_check("apns", body)
    try:
        token = provider_token()
    except (OSError, ValueError, jwt.PyJWTError) as exc:
        return [DeviceResult("retry", f"Could not sign an APNs provider token with "
                                      f"APNS_KEY_FILE: {type(exc).__name__}: {exc}")] * len(devices)
    results = []
    # Trust as the system does (SSL_CERT_FILE included), one HTTP/2 connection for the batch.
    with httpx.Client(http2=True, verify=ssl.create_default_context(),
                      timeout=float(settings.OUTBOUND_TOTAL_TIMEOUT)) as client:
        for device in devices:
            results.append(_send_one(client, device, body, token, delivery_id))
    if any(r.status_code == 403 for r in results):
        forget_token()  # the next try signs a new one
    return results


def _send_one(client: httpx.Client, device: Device, body: bytes, token: str,
              delivery_id) -> DeviceResult:
    base = (settings.APNS_SANDBOX_BASE_URL if device.apns_environment == ApnsEnvironment.SANDBOX
            else settings.APNS_BASE_URL)
    headers = {
        "authorization": f"bearer {token}",
        "apns-topic": device.apns_topic or settings.APNS_TOPIC,
        "apns-push-type": "alert",
        "apns-priority": "10",
        "apns-expiration": str(int(time.time()) + 24 * 3600),
        "apns-id": str(uuid.uuid5(uuid.UUID(str(delivery_id)), str(device.pk))),
        "apns-collapse-id": uuid.UUID(str(delivery_id)).hex,
    }
    try:
        response = client.post(f"{base}/3/device/{device.token}", content=body, headers=headers)
    except httpx.HTTPError as exc:
        return DeviceResult("retry", f"APNs could not be reached: {type(exc).__name__}: {exc}")
    return _judged(response)


def _judged(response: httpx.Response) -> DeviceResult:
    status = response.status_code
    if status == 200:
        return DeviceResult("sent", status_code=status,
                            message_id=response.headers.get("apns-id", ""))
    try:
        reason = str(json.loads(response.content).get("reason", ""))
    except (ValueError, AttributeError):
        reason = ""
    said = reason or f"HTTP {status}"
    if reason in _GONE and status in (400, 410):
        return DeviceResult("gone", f"APNs says {_GONE[reason]} ({status} {reason}): the "
                                    f"device was removed.", status)
    if status == 429 or status >= 500:
        return DeviceResult("retry", f"APNs answered {status} ({said})", status,
                            retry_after=retry_after_seconds(response.headers.get("retry-after")))
    if status == 403:
        return DeviceResult("retry", f"APNs refused Clarion's provider token ({said}); check "
                                     f"APNS_KEY_FILE, APNS_KEY_ID and APNS_TEAM_ID.", status)
    return DeviceResult("failed", f"APNs refused the message ({status} {said})", status)
