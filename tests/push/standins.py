"""Stand-ins for the push services, each checking what its provider documents.

* ``WebPushService``: RFC 8030/8291/8292 — the VAPID ``Authorization: vapid t=…,k=…``
  header is an ES256 JWT signed by ``k`` whose ``aud`` is the endpoint's origin, whose
  ``exp`` is within 24 hours and whose ``sub`` is a mailto: or https: URL; the body is
  ``aes128gcm`` and is decrypted with the browser's keys (``http_ece``).
* ``ExpoService``: ``POST /--/api/v2/push/send`` with a JSON array of messages, answered
  with one ticket per message.
* ``FcmService``: Google's token endpoint (a JWT assertion signed with the service
  account's key, RFC 7523) and ``/v1/projects/{project}/messages:send`` with the bearer
  token it issued.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import http_ece
import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from tests.notifications.providers.fake_service import Recorded, Reply


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class WebPushService:
    """Decrypts what it receives for the subscriptions it knows; answers ``replies`` in turn
    (201 when none is scripted)."""

    keys: dict  # endpoint path → BrowserKeys
    origin: str = ""
    replies: list = field(default_factory=list)
    received: list = field(default_factory=list)  # (path, decrypted JSON, headers)
    problems: list = field(default_factory=list)

    def __call__(self, request: Recorded):
        try:
            self._check(request)
        except AssertionError as exc:  # a test asserts ``problems`` is empty
            self.problems.append(str(exc))
            return Reply(400, {"error": str(exc)})
        return self.replies.pop(0) if self.replies else Reply(201, b"", {
            "Location": f"{self.origin}/message/{len(self.received)}"})

    def _check(self, request: Recorded) -> None:
        assert request.method == "POST", request.method
        scheme, _, params = request.headers["Authorization"].partition(" ")
        assert scheme == "vapid", scheme
        fields = dict(part.split("=", 1) for part in params.split(","))
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _unb64(fields["k"]))
        claims = jwt.decode(fields["t"], key=public, algorithms=["ES256"], audience=self.origin)
        assert 0 < claims["exp"] - time.time() <= 24 * 3600, claims
        assert claims["sub"].startswith(("mailto:", "https:")), claims
        assert request.headers["Content-Encoding"] == "aes128gcm"
        assert int(request.headers["TTL"]) > 0
        assert len(request.headers["Topic"]) <= 32
        browser = self.keys[request.path]
        plain = http_ece.decrypt(request.body, private_key=browser.private,
                                 auth_secret=browser.auth_secret, version="aes128gcm")
        self.received.append((request.path, json.loads(plain), request.headers, fields["k"]))


@dataclass
class ExpoService:
    tickets: list = field(default_factory=list)  # per request: a list of tickets, or a Reply
    requests: list = field(default_factory=list)

    def __call__(self, request: Recorded):
        assert request.method == "POST" and request.path == "/--/api/v2/push/send"
        assert request.headers["Content-Type"] == "application/json"
        messages = request.json
        assert isinstance(messages, list) and 1 <= len(messages) <= 100
        for message in messages:
            assert set(message) >= {"to", "title", "body", "data"}, message
        self.requests.append((request.headers, messages))
        scripted = self.tickets.pop(0) if self.tickets else None
        if isinstance(scripted, Reply):
            return scripted
        return Reply(200, {"data": scripted or [{"status": "ok", "id": f"ticket-{i}"}
                                                for i in range(len(messages))]})


@dataclass
class FcmService:
    """Issues access tokens for the service account whose public key it holds, and takes
    messages for ``project`` bearing one."""

    public_key: object
    client_email: str
    project: str
    token_uri: str = ""
    replies: list = field(default_factory=list)
    messages: list = field(default_factory=list)
    tokens_issued: list = field(default_factory=list)
    problems: list = field(default_factory=list)

    def __call__(self, request: Recorded):
        if request.path == "/token":
            return self._token(request)
        assert request.path == f"/v1/projects/{self.project}/messages:send", request.path
        auth = request.headers.get("Authorization", "")
        if auth.removeprefix("Bearer ") not in self.tokens_issued:
            return Reply(401, {"error": {"code": 401, "status": "UNAUTHENTICATED",
                                         "message": "Request had invalid credentials."}})
        message = request.json["message"]
        assert set(request.json) == {"message"}
        assert isinstance(message["token"], str)
        assert set(message["notification"]) == {"title", "body"}
        assert all(isinstance(v, str) for v in message["data"].values()), message["data"]
        self.messages.append(message)
        if self.replies:
            return self.replies.pop(0)
        return Reply(200, {"name": f"projects/{self.project}/messages/{len(self.messages)}"})

    def _token(self, request: Recorded):
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        try:
            assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer", form
            # Google's documented audience, whichever URL the assertion is posted to.
            claims = jwt.decode(form["assertion"], key=self.public_key, algorithms=["RS256"],
                                audience=GOOGLE_TOKEN_AUDIENCE)
            assert claims["iss"] == self.client_email
            assert "https://www.googleapis.com/auth/firebase.messaging" in claims["scope"].split()
            assert claims["exp"] - claims["iat"] <= 3600
        except (AssertionError, KeyError, jwt.InvalidTokenError) as exc:
            self.problems.append(f"{type(exc).__name__}: {exc}")
            return Reply(400, {"error": "invalid_grant", "error_description": str(exc)})
        token = f"ya29.test-{len(self.tokens_issued)}"
        self.tokens_issued.append(token)
        return Reply(200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"})


GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"


def fcm_error(status: int, code: str, message: str = "", headers: dict | None = None) -> Reply:
    return Reply(status, {"error": {"code": status, "message": message or code,
                                    "status": {404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED",
                                               503: "UNAVAILABLE"}.get(status, "INVALID_ARGUMENT"),
                                    "details": [{"@type": "type.googleapis.com/google.firebase."
                                                          "fcm.v1.FcmError", "errorCode": code}]}},
                 headers or {})
