"""Checking a device on the way in: each kind's token format, and a browser's endpoint
through the same outbound address policy as webhook URLs.

``device_fields_check`` returns the cleaned fields or raises ``ValidationError``
naming the field, so the API and the admin refuse a malformed token before it is
stored rather than after a push service answers 400.
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from notifications.http import OutboundError, url_check
from push.models import ApnsEnvironment, DeviceKind

_FCM_TOKEN = re.compile(r"[A-Za-z0-9_:\-]{20,4096}")
_APNS_TOKEN = re.compile(r"(?:[0-9a-f]{2}){32,100}")
_EXPO_TOKEN = re.compile(r"Expo(?:nent)?PushToken\[[A-Za-z0-9_\-]{10,200}\]")
_BUNDLE_ID = re.compile(r"[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+(\.(voip|complication|pushkit\.\w+))?")


def device_fields_check(kind: str, token: str, *, p256dh: str = "", auth: str = "",
                        apns_topic: str = "", apns_environment: str = "") -> dict[str, str]:
    """The device's fields, cleaned; raise ``ValidationError`` naming the field at fault."""
    if kind not in DeviceKind.values:
        raise ValidationError({"kind": [f"Use one of {', '.join(DeviceKind.values)}."]})
    if not isinstance(token, str) or not token.strip():
        raise ValidationError({"token": ["A token is required."]})
    token = token.strip()
    cleaned = {"kind": kind, "token": token, "p256dh": "", "auth": "", "apns_topic": "",
               "apns_environment": ""}
    if kind == DeviceKind.WEBPUSH:
        cleaned["token"] = _endpoint_check(token)
        cleaned["p256dh"] = _key_check(p256dh, "p256dh", size=65, first=0x04)
        cleaned["auth"] = _key_check(auth, "auth", size=16)
    elif kind == DeviceKind.FCM:
        if not _FCM_TOKEN.fullmatch(token):
            raise ValidationError({"token": ["Not an FCM registration token."]})
    elif kind == DeviceKind.APNS:
        cleaned["token"] = token = token.lower().replace(" ", "")
        if not _APNS_TOKEN.fullmatch(token):
            raise ValidationError({"token": ["Not an APNs device token (hexadecimal, at least "
                                             "64 digits)."]})
        if apns_topic and not _BUNDLE_ID.fullmatch(apns_topic):
            raise ValidationError({"apns_topic": ["Not a bundle id such as com.example.app."]})
        if apns_environment and apns_environment not in ApnsEnvironment.values:
            raise ValidationError({"apns_environment": ["Use production or sandbox."]})
        cleaned["apns_topic"], cleaned["apns_environment"] = apns_topic, apns_environment
    elif not _EXPO_TOKEN.fullmatch(token):
        raise ValidationError({"token": ["Not an Expo push token (ExponentPushToken[…])."]})
    if kind != DeviceKind.WEBPUSH and (p256dh or auth):
        raise ValidationError({"p256dh": ["Only Web Push devices have keys."]})
    if kind != DeviceKind.APNS and (apns_topic or apns_environment):
        raise ValidationError({"apns_topic": ["Only APNs devices have a topic."]})
    return cleaned


def _endpoint_check(endpoint: str) -> str:
    if len(endpoint) > 2000:
        raise ValidationError({"token": ["The endpoint is longer than 2000 characters."]})
    scheme = urlsplit(endpoint).scheme.lower()
    if scheme != "https" and (scheme != "http" or settings.WEBPUSH_REQUIRE_HTTPS):
        raise ValidationError({"token": ["A Web Push endpoint is an https:// URL."]})
    try:
        url_check(endpoint)
    except OutboundError as exc:
        raise ValidationError({"token": [f"This endpoint cannot be used: {exc}"]}) from None
    return endpoint


def _key_check(value: str, field: str, *, size: int, first: int | None = None) -> str:
    """A browser's key: unpadded base64url of ``size`` bytes."""
    if not isinstance(value, str) or not value:
        raise ValidationError({field: ["Required for a Web Push subscription."]})
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != size or (first is not None and raw[0] != first):
        raise ValidationError({field: [f"Not a base64url key of {size} bytes as the browser's "
                                       f"PushSubscription gives it."]})
    return value.rstrip("=")
