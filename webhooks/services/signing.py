"""Standard Webhooks signatures (v1): secrets, the signed content and the headers.

A secret is ``whsec_`` followed by the base64 of its key bytes. The signature of a
message is ``v1,`` + base64(HMAC-SHA256(key, f"{webhook_id}.{timestamp}.".encode() +
body)), computed over the very bytes that are sent; during a secret rotation the
``webhook-signature`` header carries one such signature per valid secret,
separated by spaces, and receivers accept the message when any one matches.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from django.core.exceptions import ValidationError

SECRET_PREFIX = "whsec_"  # noqa: S105 — the format's marker, not a secret
SECRET_BYTES = 32
# The spec allows keys of 24 to 64 bytes; a caller-supplied secret must be in that range.
MIN_KEY_BYTES, MAX_KEY_BYTES = 24, 64


def secret_generate() -> str:
    """A new secret: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of ``secret``; raise ``ValidationError`` (field ``secret``) when malformed."""
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
        raise ValidationError({"secret": [f"A secret starts with '{SECRET_PREFIX}'."]})
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError({"secret": ["After 'whsec_' comes standard base64."]}) from None
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise ValidationError({"secret": [f"The key must be {MIN_KEY_BYTES} to {MAX_KEY_BYTES} "
                                          f"bytes long; this one is {len(key)}."]})
    return key


def signature(*, secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` of ``webhook_id.timestamp.body`` under ``secret``."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(*, secrets_valid: list[str], webhook_id: str, timestamp: int,
                   body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt, one signature per valid secret."""
    if "." in webhook_id:
        raise ValueError("a webhook-id must not contain '.'")
    if not secrets_valid:
        raise ValueError("an endpoint without a valid secret cannot sign")
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            signature(secret=secret, webhook_id=webhook_id, timestamp=timestamp, body=body)
            for secret in secrets_valid),
    }
