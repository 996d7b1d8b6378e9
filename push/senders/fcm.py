"""Firebase Cloud Messaging, HTTP v1: one request per device, all of them at once.

Authentication is Google's service-account flow (``google-auth``): a JWT signed
with the service account's key is exchanged at its ``token_uri`` for an access
token, kept until it expires. Answers are judged by FCM's ``errorCode``:
``UNREGISTERED`` and ``SENDER_ID_MISMATCH`` remove the device; ``QUOTA_EXCEEDED``,
``UNAVAILABLE`` and ``INTERNAL`` are retried, honouring ``Retry-After``.
"""

from __future__ import annotations

import json
import threading

from django.conf import settings

from notifications.http import OutboundCall, OutboundError, outbound_requests
from notifications.providers.chat_http import body_json, retry_after
from push.content import PushMessage, size_check
from push.models import Device
from push.senders.base import DeviceResult, unreachable

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
_GONE = {"UNREGISTERED": "the app was uninstalled or the token expired",
         "SENDER_ID_MISMATCH": "the token belongs to another Firebase project"}
_credentials = None
_lock = threading.Lock()


def configured() -> bool:
    return bool(settings.FCM_SERVICE_ACCOUNT_FILE)


def _access(refresh: bool = False) -> tuple[str, str]:
    """(access token, project id), fetched again when expired or when ``refresh``."""
    global _credentials
    from google.auth.transport.requests import Request
    from google.oauth2 import service_account

    with _lock:
        if _credentials is None:
            _credentials = service_account.Credentials.from_service_account_file(
                settings.FCM_SERVICE_ACCOUNT_FILE, scopes=[SCOPE])
        if refresh or not _credentials.valid:
            _credentials.refresh(Request())
        return _credentials.token, _credentials.project_id


def forget_credentials() -> None:
    """Read the service account file again on the next send (a setting changed)."""
    global _credentials
    _credentials = None


def send(devices: list[Device], message: PushMessage, *, delivery_id) -> list[DeviceResult]:
    try:
        token, project = _access()
    except Exception as exc:  # noqa: BLE001 — google-auth raises many kinds; all mean "no token"
        return [DeviceResult("retry", f"Could not get an FCM access token with "
                                      f"FCM_SERVICE_ACCOUNT_FILE: {type(exc).__name__}: {exc}")
                ] * len(devices)
    bodies = [_message(device, message) for device in devices]
    for body in bodies:
        size_check("fcm", json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())
    url = f"{settings.FCM_BASE_URL}/v1/projects/{project}/messages:send"
    calls = [OutboundCall("POST", url, headers={"Authorization": f"Bearer {token}"}, json=body,
                          trusted=True) for body in bodies]
    answers = outbound_requests(calls)
    if any(not isinstance(a, OutboundError) and a.status == 401 for a in answers):
        forget_credentials()  # the next try fetches a new access token
    return [_judged(answer) for answer in answers]


def _message(device: Device, message: PushMessage) -> dict:
    data = {**message.data, **({"url": message.url} if message.url else {})}
    body = {"token": device.token, "notification": {"title": message.title, "body": message.body},
            "data": data, "android": {"priority": "high"}}
    if message.url:
        body["webpush"] = {"fcm_options": {"link": message.url}}
    if message.sound:
        body["android"]["notification"] = {"sound": message.sound}
    aps = {key: value for key, value in (("badge", message.badge), ("sound", message.sound))
           if value not in (None, "")}
    if aps:
        body["apns"] = {"payload": {"aps": aps}}
    return {"message": body}


def _judged(answer) -> DeviceResult:
    if isinstance(answer, OutboundError):
        return unreachable("FCM", answer)
    status = answer.status
    document = body_json(answer)
    if 200 <= status < 300:
        return DeviceResult("sent", status_code=status,
                            message_id=str(document.get("name", "")))
    error = document.get("error")
    error = error if isinstance(error, dict) else {}
    codes = [d.get("errorCode") for d in error.get("details") or [] if isinstance(d, dict)]
    code = next((c for c in codes if c), error.get("status", "") or f"HTTP {status}")
    said = f"{code}: {error.get('message', '')}".strip(": ")
    if code in _GONE:
        return DeviceResult("gone", f"FCM says {_GONE[code]} ({said}): the device was removed.",
                            status)
    if status == 429 or status >= 500 or code in ("QUOTA_EXCEEDED", "UNAVAILABLE", "INTERNAL"):
        return DeviceResult("retry", f"FCM answered {status} ({said})", status,
                            retry_after=retry_after(answer))
    if status in (401, 403) or code == "THIRD_PARTY_AUTH_ERROR":
        return DeviceResult("retry", f"FCM refused Clarion's credentials ({said}); check "
                                     f"FCM_SERVICE_ACCOUNT_FILE and the project's APNs/Web "
                                     f"Push credentials in Firebase.", status)
    return DeviceResult("failed", f"FCM refused the message ({said})", status)
