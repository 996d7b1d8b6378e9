"""What a push says, from the delivery's rendered template, and the size each service takes.

The push template's fields: the subject is the title, the short body (or the text
body) the body, the action URL where a tap leads; ``push_data`` a JSON object
for the app, ``push_badge`` the icon's badge count, ``push_sound`` the sound.
Every service gets the same words; each sender wraps them in its own envelope
(and leaves out what its service has no place for). Each service caps a message at
about 4 KB, so the size is checked before anything is sent, with the limit named.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from notifications.providers import PermanentError

# Bytes of the JSON each service accepts (APNs and FCM: 4 KB; Expo: 4 KB a message).
# Web Push: 4,096 bytes of encrypted record, less the aes128gcm header (86 bytes with a
# 65-byte key), the 16-byte tag and the 1-byte padding delimiter.
LIMITS = {"apns": 4096, "fcm": 4096, "expo": 4096, "webpush": 4096 - 86 - 16 - 1}


@dataclass(frozen=True)
class PushMessage:
    title: str
    body: str
    url: str = ""
    data: dict[str, str] = field(default_factory=dict)
    badge: int | None = None
    sound: str = ""

    def as_json(self) -> bytes:
        """The document a browser's service worker receives."""
        return json.dumps({"title": self.title, "body": self.body, "url": self.url,
                           "data": self.data}, separators=(",", ":"),
                          ensure_ascii=False).encode()


def push_message(rendered: dict[str, str], *, delivery_id, event_type: str,
                 read_token: str = "") -> PushMessage:
    """Build the message; raise ``PermanentError`` when the template gives nothing to say.
    ``read_token`` lets a click mark the in-app copy read (``push.read_links``)."""
    title = " ".join((rendered.get("subject") or "").split())
    body = (rendered.get("short_body") or rendered.get("text_body") or "").strip()
    if not body:
        body, title = title, ""
    if not body:
        raise PermanentError("The push template has no short body, text body or subject.")
    url = (rendered.get("action_url") or "").strip()
    if not url.lower().startswith(("http://", "https://")):
        url = ""  # a relative or javascript: link would be broken or worse on a phone
    data = {**_data(rendered.get("push_data") or ""), "delivery_id": str(delivery_id),
            "event_type": event_type}
    if read_token:
        data["read_token"] = read_token
    return PushMessage(title=title, body=body, url=url, data=data,
                       badge=_badge(rendered.get("push_badge") or ""),
                       sound=(rendered.get("push_sound") or "").strip())


def _data(text: str) -> dict[str, str]:
    """The template's data object, values as text (FCM takes only strings)."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise PermanentError(f"The push template's data is not JSON once rendered ({exc}).") \
            from None
    if not isinstance(value, dict):
        raise PermanentError("The push template's data must render to a JSON object.")
    return {str(key): item if isinstance(item, str) else json.dumps(item, ensure_ascii=False)
            for key, item in value.items()}


def _badge(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit():
        raise PermanentError(f"The push template's badge must render to a whole number, not "
                             f"{text[:40]!r}.")
    return int(text)


def size_check(kind: str, payload: bytes) -> None:
    """Raise ``PermanentError`` when ``payload`` is more than the ``kind`` service takes."""
    limit = LIMITS[kind]
    if len(payload) > limit:
        raise PermanentError(
            f"The push message is {len(payload):,} bytes for {kind}, which takes at most "
            f"{limit:,}; shorten the push template's subject or body.")
