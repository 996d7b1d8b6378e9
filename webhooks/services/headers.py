"""Custom request headers of an endpoint: what may be set, and what is never shown in full.

Names are HTTP tokens; values printable ASCII without line breaks. Headers the
sender owns (framing, content type, the ``webhook-*`` signature headers) cannot
be overridden. Values of credential-like headers (``Authorization``, anything
naming a token, key, secret, password, cookie or session) are masked wherever
they are shown: API responses, the admin and attempt logs. A masked value sent
back unchanged (a PUT of what a GET returned) keeps the stored value.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from notifications.fields import mask

MAX_HEADERS = 20
MAX_VALUE_LENGTH = 1000
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")
_VALUE = re.compile(r"^[\x20-\x7e]*$")
_RESERVED = frozenset({"host", "content-length", "transfer-encoding", "connection", "content-type",
                       "user-agent", "te", "upgrade", "expect", "keep-alive", "trailer"})
_SENSITIVE = ("auth", "token", "secret", "key", "password", "passwd", "cookie", "session",
              "signature", "credential")
REDACTED = "[redacted]"


def header_is_sensitive(name: str) -> bool:
    lowered = name.lower()
    return any(part in lowered for part in _SENSITIVE)


def headers_validate(headers: object) -> dict[str, str]:
    """Return ``headers`` when every name and value may be sent; raise ``ValidationError``."""
    if headers is None:
        return {}
    if not isinstance(headers, dict):
        raise ValidationError({"headers": ["Must be an object of header name → value."]})
    if len(headers) > MAX_HEADERS:
        raise ValidationError({"headers": [f"At most {MAX_HEADERS} custom headers."]})
    seen: set[str] = set()
    for name, value in headers.items():
        lowered = str(name).lower()
        if not _TOKEN.match(str(name)):
            raise ValidationError({"headers": [f"{name!r} is not a valid header name."]})
        if lowered in _RESERVED or lowered.startswith("webhook-"):
            raise ValidationError({"headers": [f"{name!r} is set by Clarion and cannot be "
                                               "overridden."]})
        if lowered in seen:
            raise ValidationError({"headers": [f"{name!r} is listed twice."]})
        seen.add(lowered)
        if not isinstance(value, str) or len(value) > MAX_VALUE_LENGTH or not _VALUE.match(value):
            raise ValidationError({"headers": [f"The value of {name!r} must be printable ASCII "
                                               f"of at most {MAX_VALUE_LENGTH} characters, "
                                               "without line breaks."]})
    return dict(headers)


def headers_merge_masked(*, stored: dict[str, str], given: dict) -> dict:
    """``given``, with masked values that match a stored header replaced by the stored value."""
    by_name = {name.lower(): value for name, value in stored.items()}
    merged = {}
    for name, value in given.items():
        previous = by_name.get(str(name).lower())
        keep = previous is not None and header_is_sensitive(str(name)) and value == mask(previous)
        merged[name] = previous if keep else value
    return merged


def headers_masked(headers: dict[str, str]) -> dict[str, str]:
    """For API responses and the admin: credential-like values masked, the rest as stored."""
    return {name: mask(value) if header_is_sensitive(name) else value
            for name, value in headers.items()}


def _secret_parts(name: str, value: str) -> list[str]:
    """What in a sent header is secret: each signature of ``Webhook-Signature`` (its version
    prefix is not), or the whole value of a credential-like header and, for
    ``Bearer abc…``, the credential alone (the scheme is no secret)."""
    if name.lower() == "webhook-signature":
        return [part.partition(",")[2] for part in value.split()]
    if header_is_sensitive(name):
        return [value, *value.split()[1:]]
    return []


def headers_for_log(headers: dict[str, str]) -> dict[str, str]:
    """For attempt logs: credential-like values and signatures replaced, the rest as sent."""
    logged = {}
    for name, value in headers.items():
        if name.lower() == "webhook-signature":
            # How many signatures went out matters during a rotation; their values do not.
            logged[name] = " ".join(f"{part.partition(',')[0]},{REDACTED}" for part in value.split())
        else:
            logged[name] = REDACTED if _secret_parts(name, value) else value
    return logged


#: Shorter values are not looked for in responses: they would match ordinary text.
_MIN_ECHOED_SECRET = 6


def excerpt_redacted(excerpt: str, headers: dict[str, str]) -> str:
    """``excerpt`` (a receiver's answer) with every secret value Clarion sent in ``headers``
    replaced: a receiver that echoes its request headers must not make them readable in the
    attempt log, the API or the admin."""
    secrets = {part for name, value in headers.items() for part in _secret_parts(name, value)}
    for secret in sorted(secrets, key=len, reverse=True):  # "Bearer abc" before "abc"
        if len(secret) >= _MIN_ECHOED_SECRET:
            excerpt = excerpt.replace(secret, REDACTED)
    return excerpt
