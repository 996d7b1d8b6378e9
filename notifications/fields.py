"""Model fields for secrets stored in the database, encrypted at rest.

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from the
``cryptography`` package) under ``FIELD_ENCRYPTION_KEYS``: the first key
encrypts, every key decrypts, so keys can be rotated by putting a new one in
front and re-saving rows. Without configured keys, one is derived from
``SECRET_KEY`` — fine for the embedded default, but a deployment should set its
own so rotating ``SECRET_KEY`` does not make stored secrets unreadable.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

_PREFIX = "enc1:"  # marks ciphertext, so a plaintext row from before encryption still reads


@cache
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        derived = hashlib.sha256(b"clarion-field-encryption:" + secret_key.encode()).digest()
        keys = (base64.urlsafe_b64encode(derived).decode(),)
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64-encoded bytes); "
            "make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'") from exc


def _cipher() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS), settings.SECRET_KEY)


def encrypt(value: str) -> str:
    return _PREFIX + _cipher().encrypt(value.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored.startswith(_PREFIX):
        return stored
    try:
        return _cipher().decrypt(stored.removeprefix(_PREFIX).encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEYS "
            "(was a key removed or SECRET_KEY changed?).") from exc


def mask(value: str, *, visible: int = 4) -> str:
    """Show only the last ``visible`` characters: enough to recognise, not to use."""
    if not value:
        return ""
    return "•" * 8 + value[-visible:] if len(value) > visible * 2 else "•" * 8


class EncryptedTextField(models.TextField):
    """A text field stored encrypted; Python code sees the plain value."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))
