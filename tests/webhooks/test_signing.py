"""Standard Webhooks signatures: our secrets and headers against the spec and both libraries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime

import pytest
import standardwebhooks
import svix.webhooks
from django.core.exceptions import ValidationError

from webhooks.services.signing import secret_generate, secret_key, signature, signed_headers

BODY = '{"type":"order.shipped","timestamp":"2025-01-01T00:00:00.000Z","data":{"a":"é"}}'.encode()


def test_secret_is_whsec_and_base64_of_32_random_bytes():
    secret = secret_generate()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert secret_generate() != secret


def test_signature_is_hmac_sha256_over_id_timestamp_and_body():
    secret = secret_generate()
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, b"msg_1.1700000000." + BODY,
                                         hashlib.sha256).digest()).decode()
    assert signature(secret=secret, webhook_id="msg_1", timestamp=1700000000,
                     body=BODY) == f"v1,{expected}"


def test_signature_matches_what_the_reference_library_computes():
    secret = secret_generate()
    reference = standardwebhooks.Webhook(secret).sign(
        "msg_2", datetime.fromtimestamp(1700000000, tz=UTC), BODY.decode())
    assert signature(secret=secret, webhook_id="msg_2", timestamp=1700000000,
                     body=BODY) == reference


def test_headers_verify_with_both_libraries_and_carry_one_signature_per_secret():
    old, new = secret_generate(), secret_generate()
    headers = signed_headers(secrets_valid=[new, old], webhook_id="msg_abc",
                             timestamp=int(time.time()), body=BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert standardwebhooks.Webhook(secret).verify(BODY, headers)["data"] == {"a": "é"}
        svix.webhooks.Webhook(secret).verify(BODY, headers)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(secret_generate()).verify(BODY, headers)


def test_a_stale_timestamp_is_rejected_by_receivers():
    secret = secret_generate()
    headers = signed_headers(secrets_valid=[secret], webhook_id="msg_abc",
                             timestamp=int(time.time()) - 600, body=BODY)
    with pytest.raises(standardwebhooks.WebhookVerificationError, match="too old"):
        standardwebhooks.Webhook(secret).verify(BODY, headers)


def test_a_webhook_id_with_a_dot_is_refused():
    with pytest.raises(ValueError):
        signed_headers(secrets_valid=[secret_generate()], webhook_id="msg.1", timestamp=1,
                       body=BODY)


@pytest.mark.parametrize("secret", ["abc", "whsec_!!!", "whsec_" + base64.b64encode(b"x" * 16).decode(),
                                    "whsec_" + base64.b64encode(b"x" * 65).decode()])
def test_malformed_secrets_are_refused(secret):
    with pytest.raises(ValidationError) as raised:
        secret_key(secret)
    assert "secret" in raised.value.message_dict
