"""Encrypted fields: ciphertext in the database, plaintext in Python, keys rotate."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from notifications.fields import _fernet, decrypt, encrypt, mask


@pytest.fixture(autouse=True)
def _fresh_cipher():
    _fernet.cache_clear()
    yield
    _fernet.cache_clear()


def test_round_trip_and_ciphertext_hides_the_value():
    stored = encrypt("xoxb-very-secret")
    assert stored.startswith("enc1:") and "very-secret" not in stored
    assert decrypt(stored) == "xoxb-very-secret"
    assert encrypt("same") != encrypt("same")  # random IV per value


def test_rotation_old_key_still_decrypts(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    stored = encrypt("token")
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    assert decrypt(stored) == "token"
    settings.FIELD_ENCRYPTION_KEYS = [new]
    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted"):
        decrypt(stored)


def test_bad_key_is_a_configuration_error(settings):
    settings.FIELD_ENCRYPTION_KEYS = ["not-a-key"]
    with pytest.raises(ImproperlyConfigured, match="Fernet"):
        encrypt("x")


def test_plaintext_from_before_encryption_still_reads():
    assert decrypt("legacy-plain") == "legacy-plain"


def test_mask_shows_only_a_tail():
    assert mask("https://hooks.example.com/T000/B000/XXXXsecret") == "••••••••cret"
    assert mask("short") == "••••••••"
    assert mask("") == ""
