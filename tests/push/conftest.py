"""Fixtures for the push tests: a browser's subscription keys, the server's VAPID key, and
local stand-ins for the push services, each set up as the operator would point Clarion at
the real one."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from push.senders import apns, fcm
from tests.factories import SubscriberFactory
from tests.notifications.providers.fake_service import service  # noqa: F401 — fixture
from tests.push.apns_standin import Apns, ApnsServer, self_signed_localhost
from tests.push.standins import ExpoService, FcmService


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


@pytest.fixture
def ada(db):
    return SubscriberFactory(external_id="ada")


@pytest.fixture
def expo(service, settings):  # noqa: F811 — the imported fixture
    standin = ExpoService()
    server = service(standin)
    settings.EXPO_ENABLED = True
    settings.EXPO_PUSH_URL = f"{server.url}/--/api/v2/push/send"
    settings.EXPO_ACCESS_TOKEN = "expo-access-token"
    return standin


@pytest.fixture
def firebase(service, settings, tmp_path):  # noqa: F811 — the imported fixture
    """A service account whose key the stand-in knows, its file set as the operator would."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    standin = FcmService(public_key=key.public_key(),
                         client_email="clarion@demo-project.iam.gserviceaccount.com",
                         project="demo-project")
    server = service(standin)
    standin.token_uri = f"{server.url}/token"
    account = tmp_path / "service-account.json"
    account.write_text(json.dumps({
        "type": "service_account", "project_id": "demo-project", "private_key_id": "k1",
        "private_key": key.private_bytes(serialization.Encoding.PEM,
                                         serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()).decode(),
        "client_email": standin.client_email, "client_id": "1",
        "token_uri": standin.token_uri}))
    settings.FCM_SERVICE_ACCOUNT_FILE = str(account)
    settings.FCM_BASE_URL = server.url
    fcm.forget_credentials()
    yield standin
    fcm.forget_credentials()


@pytest.fixture
def apple(settings, tmp_path, monkeypatch):
    """A .p8 key as Apple issues it (PKCS#8 P-256), set as the operator would, and the
    local APNs trusted through SSL_CERT_FILE."""
    key = ec.generate_private_key(ec.SECP256R1())
    p8 = tmp_path / "AuthKey_ABC123DEFG.p8"
    p8.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))
    standin = Apns(public_key=key.public_key(), key_id="ABC123DEFG", team_id="TEAM123456")
    cert, cert_key = self_signed_localhost(tmp_path)
    server = ApnsServer(standin, cert, cert_key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    settings.APNS_KEY_FILE, settings.APNS_KEY_ID = str(p8), "ABC123DEFG"
    settings.APNS_TEAM_ID, settings.APNS_TOPIC = "TEAM123456", "com.example.shop"
    settings.APNS_BASE_URL = settings.APNS_SANDBOX_BASE_URL = server.url
    apns.forget_token()
    yield standin
    server.stop()
    apns.forget_token()
