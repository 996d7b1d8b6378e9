"""Fixtures for the push tests: a browser's subscription keys, the server's VAPID key, and
local stand-ins for the push services (``service`` from the provider tests)."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.notifications.providers.fake_service import service  # noqa: F401 — fixture


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class BrowserKeys:
    """What a browser makes when it subscribes: an ECDH P-256 pair and a 16-byte secret."""

    private: ec.EllipticCurvePrivateKey
    auth_secret: bytes

    @property
    def p256dh(self) -> str:
        return b64url(self.private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)


@pytest.fixture
def browser_keys() -> BrowserKeys:
    return BrowserKeys(ec.generate_private_key(ec.SECP256R1()), os.urandom(16))


@pytest.fixture
def vapid(settings) -> ec.EllipticCurvePrivateKey:
    """A VAPID key pair for the server, set as the operator would (raw, base64url)."""
    key = ec.generate_private_key(ec.SECP256R1())
    settings.VAPID_PRIVATE_KEY = b64url(key.private_numbers().private_value.to_bytes(32, "big"))
    settings.VAPID_SUBJECT = "mailto:ops@example.com"
    return key


@pytest.fixture(autouse=True)
def _push_settings(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]  # the stand-ins live here
    settings.WEBPUSH_REQUIRE_HTTPS = False
    settings.DELIVERY_RETRY_BASE_SECONDS = 0
    settings.EXPO_ENABLED = False
    settings.FCM_SERVICE_ACCOUNT_FILE = ""
    settings.VAPID_PRIVATE_KEY = settings.VAPID_SUBJECT = ""
