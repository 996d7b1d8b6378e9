"""Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm encryption (RFC 8291).

``pywebpush`` encrypts the message for each browser's keys and ``py-vapid``
signs the ES256 token that tells the push service who sends (``aud`` is the
endpoint's origin, ``exp`` 12 hours ahead, ``sub`` the operator's contact). The
POSTs go through the outbound door like webhooks, since the endpoint came from a
browser: the address policy applies, redirects are not followed.

``Topic`` is the delivery: a retry replaces its own earlier message if the push
service still holds it, so a device does not show the same message twice.
"""

from __future__ import annotations

import base64
import time
import uuid
from functools import cache
from urllib.parse import urlsplit

from django.conf import settings
from py_vapid import Vapid
from pywebpush import WebPusher

from notifications.http import OutboundCall, OutboundError, outbound_requests
from notifications.providers.chat_http import retry_after
from push.content import PushMessage, size_check
from push.models import Device
from push.senders.base import DeviceResult, unreachable

TTL_SECONDS = 24 * 3600
_VAPID_LIFETIME = 12 * 3600


def configured() -> bool:
    return bool(settings.VAPID_PRIVATE_KEY and settings.VAPID_SUBJECT)


def public_key() -> str:
    """The VAPID public key as browsers take it (``applicationServerKey``): base64url of the
    uncompressed point."""
    from cryptography.hazmat.primitives import serialization

    point = _vapid(settings.VAPID_PRIVATE_KEY).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()


@cache
def _vapid(private_key: str) -> Vapid:
    key = private_key.strip()
    if key.startswith("-----BEGIN"):
        return Vapid.from_pem(key.encode())
    return Vapid.from_string(key)


def send(devices: list[Device], message: PushMessage, *, delivery_id) -> list[DeviceResult]:
    payload = message.as_json()
    size_check("webpush", payload)
    vapid = _vapid(settings.VAPID_PRIVATE_KEY)
    expires = int(time.time()) + _VAPID_LIFETIME
    topic = base64.urlsafe_b64encode(uuid.UUID(str(delivery_id)).bytes).rstrip(b"=").decode()
    calls = []
    for device in devices:
        parts = urlsplit(device.token)
        encrypted = WebPusher({"endpoint": device.token,
                               "keys": {"p256dh": device.p256dh, "auth": device.auth}}
                              ).encode(payload, content_encoding="aes128gcm")
        headers = {**vapid.sign({"aud": f"{parts.scheme}://{parts.netloc}", "exp": expires,
                                 "sub": settings.VAPID_SUBJECT}),
                   "TTL": str(TTL_SECONDS), "Content-Encoding": "aes128gcm",
                   "Content-Type": "application/octet-stream", "Urgency": "normal",
                   "Topic": topic}
        calls.append(OutboundCall("POST", device.token, headers=headers,
                                  body=encrypted["body"], max_response_bytes=2048))
    return [_judged(answer) for answer in outbound_requests(calls)]


def _judged(answer) -> DeviceResult:
    if isinstance(answer, OutboundError):
        return unreachable("The push service", answer)
    status = answer.status
    said = answer.body[:300].decode("utf-8", errors="replace").strip()
    if 200 <= status < 300:
        return DeviceResult("sent", status_code=status, message_id=answer.header("location") or "")
    if status in (404, 410):
        return DeviceResult("gone", f"The browser's subscription is gone ({status}): the "
                                    f"device was removed.", status)
    if status == 429 or status >= 500:
        return DeviceResult("retry", f"The push service answered {status} {said}".strip(),
                            status, retry_after=retry_after(answer))
    if status in (401, 403):
        return DeviceResult("failed", f"The push service refused the VAPID signature ({status} "
                                      f"{said}); the subscription may have been made with "
                                      f"another key than VAPID_PRIVATE_KEY's.".strip(), status)
    return DeviceResult("failed", f"The push service refused the message ({status} {said})",
                        status)
