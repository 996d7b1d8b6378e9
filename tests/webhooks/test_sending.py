"""Deliveries through the real pipeline to a real local receiver: signatures, retries, logs."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from email.utils import format_datetime

import pytest
import standardwebhooks
from django.core import mail
from django.utils import timezone

from notifications.models import Delivery
from tests.webhooks.factories import EndpointFactory, webhook_rule
from tests.webhooks.helpers import run_due_retries, trigger, verify_with_both_libraries
from tests.webhooks.receiver import Reply
from webhooks.models import WebhookAttempt, WebhookMessage
from webhooks.services.secrets import endpoint_secret_regenerate

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(receiver):
    webhook_rule()
    return EndpointFactory(url=receiver.url)


def test_delivery_is_signed_json_that_both_libraries_verify(endpoint, receiver,
                                                            django_capture_on_commit_callbacks):
    event = trigger(django_capture_on_commit_callbacks, application=endpoint.application,
                    data={"order_id": "A-9", "note": "Grüße"})
    [request] = receiver.requests
    assert request.method == "POST" and request.path == "/hooks/clarion"
    assert request.headers["content-type"] == "application/json"
    payload = verify_with_both_libraries(endpoint.signing_secret, request)
    assert payload == {"type": "order.shipped", "timestamp": payload["timestamp"],
                       "data": {"order_id": "A-9", "note": "Grüße"}}
    assert payload["timestamp"].endswith("Z")
    # Compact JSON, and the bytes sent are the bytes stored (and signed).
    message = WebhookMessage.objects.get()
    assert request.body == bytes(message.payload)
    assert b", " not in request.body and b": " not in request.body
    assert request.headers["webhook-id"] == message.webhook_id
    assert message.webhook_id.startswith("msg_") and "." not in message.webhook_id
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 30
    delivery = Delivery.objects.get(event=event)
    assert delivery.status == "delivered" and delivery.provider_message_id == message.webhook_id


def test_a_wrong_secret_or_changed_body_does_not_verify(endpoint, receiver,
                                                       django_capture_on_commit_callbacks):
    trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    [request] = receiver.requests
    other = EndpointFactory().signing_secret
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(other).verify(request.body, request.headers)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(endpoint.signing_secret).verify(request.body + b" ",
                                                                 request.headers)


def test_custom_headers_are_sent(receiver, django_capture_on_commit_callbacks):
    webhook_rule()
    endpoint = EndpointFactory(url=receiver.url, headers={"X-Tenant": "acme",
                                                          "Authorization": "Bearer s3cr3t-token"})
    trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    [request] = receiver.requests
    assert request.headers["x-tenant"] == "acme"
    assert request.headers["authorization"] == "Bearer s3cr3t-token"


def test_rotation_sends_two_signatures_that_each_verify(endpoint, receiver,
                                                        django_capture_on_commit_callbacks):
    old = endpoint.signing_secret
    new = endpoint_secret_regenerate(endpoint=endpoint).secret
    trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    [request] = receiver.requests
    signatures = request.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures)
    for secret in (old, new):
        verify_with_both_libraries(secret, request)
        # Each signature on its own verifies with exactly one of the secrets.
    verifying = [[_verifies(secret, request, signature) for secret in (old, new)]
                 for signature in signatures]
    assert sorted(verifying) == [[False, True], [True, False]]


def _verifies(secret: str, request, signature: str) -> bool:
    try:
        standardwebhooks.Webhook(secret).verify(
            request.body, {**request.headers, "webhook-signature": signature})
    except standardwebhooks.WebhookVerificationError:
        return False
    return True


def test_after_the_grace_period_only_the_new_secret_signs(endpoint, receiver,
                                                          django_capture_on_commit_callbacks):
    old = endpoint.signing_secret
    new = endpoint_secret_regenerate(endpoint=endpoint, grace_period_seconds=3600,
                                     now=timezone.now() - timedelta(hours=2)).secret
    trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    [request] = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 1
    verify_with_both_libraries(new, request)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(old).verify(request.body, request.headers)


def test_failing_receiver_gets_the_same_message_again_when_it_recovers(
        endpoint, receiver, django_capture_on_commit_callbacks):
    receiver.script(Reply(500, body=b"database down"), Reply(503))
    event = trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    delivery = Delivery.objects.get(event=event)
    assert delivery.status == "queued" and delivery.next_attempt_at is not None
    run_due_retries(django_capture_on_commit_callbacks)
    run_due_retries(django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 3
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert len(ids) == 1
    assert len({r.body for r in receiver.requests}) == 1
    verify_with_both_libraries(endpoint.signing_secret, receiver.requests[-1])
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 3
    message = WebhookMessage.objects.get()
    assert message.status == "succeeded" and message.attempt_count == 3
    outcomes = list(WebhookAttempt.objects.order_by("started_at", "id").values_list(
        "outcome", "status_code", "trigger"))
    assert outcomes == [("failed", 500, "automatic"), ("failed", 503, "automatic"),
                        ("succeeded", 200, "automatic")]
    assert WebhookAttempt.objects.order_by("started_at", "id").first().response_excerpt == \
        "database down"
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.last_success_at is not None


def test_each_attempt_is_signed_with_a_fresh_timestamp(endpoint, receiver, monkeypatch,
                                                       django_capture_on_commit_callbacks):
    receiver.script(Reply(502))
    trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    later = time.time() + 120
    monkeypatch.setattr("webhooks.services.sending.time.time", lambda: later)
    run_due_retries(django_capture_on_commit_callbacks)
    first, second = receiver.requests
    assert int(second.headers["webhook-timestamp"]) - int(first.headers["webhook-timestamp"]) >= 119
    assert first.headers["webhook-signature"] != second.headers["webhook-signature"]


def test_410_gone_disables_the_endpoint_at_once_and_tells_the_owner(
        endpoint, receiver, django_capture_on_commit_callbacks):
    receiver.script(Reply(410, body=b"gone"))
    event = trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    endpoint.refresh_from_db()
    assert endpoint.enabled is False and endpoint.disabled_reason == "gone"
    delivery = Delivery.objects.get(event=event)
    assert delivery.status == "failed" and "410" in delivery.last_error
    assert WebhookMessage.objects.get().status == "failed"
    [notice] = mail.outbox
    assert notice.to == [endpoint.application.contact_email]
    assert "410 Gone" in notice.body and str(endpoint.pk) in notice.body
    # Disabled endpoints receive nothing more.
    trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_in_seconds_is_honoured(endpoint, receiver, status,
                                            django_capture_on_commit_callbacks):
    receiver.script(Reply(status, headers={"Retry-After": "120"}))
    before = timezone.now()
    event = trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    delivery = Delivery.objects.get(event=event)
    wait = (delivery.next_attempt_at - before).total_seconds()
    assert 119 <= wait <= 130  # not the schedule's 5 s
    attempt = WebhookAttempt.objects.get()
    assert attempt.next_attempt_at is not None and "Retry-After" in attempt.error
    assert WebhookMessage.objects.get().next_attempt_at == attempt.next_attempt_at


def test_retry_after_as_an_http_date_is_honoured_and_capped(endpoint, receiver, settings,
                                                            django_capture_on_commit_callbacks):
    settings.WEBHOOK_RETRY_AFTER_MAX_SECONDS = 600
    receiver.script(Reply(503, headers={"Retry-After": format_datetime(
        timezone.now() + timedelta(days=3), usegmt=True)}))
    before = timezone.now()
    event = trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    wait = (Delivery.objects.get(event=event).next_attempt_at - before).total_seconds()
    assert 595 <= wait <= 610


def test_a_due_retry_waits_in_the_database_until_it_is_due(endpoint, receiver,
                                                           django_capture_on_commit_callbacks):
    from notifications.services.sweeper import sweep

    receiver.script(Reply(500))
    trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    with django_capture_on_commit_callbacks(execute=True):
        sweep()  # 5 s have not passed: nothing is sent
    assert len(receiver.requests) == 1
    run_due_retries(django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 2


def test_redirect_is_a_failure_with_a_hint_and_is_not_followed(endpoint, receiver,
                                                               django_capture_on_commit_callbacks):
    receiver.script(Reply(301, headers={"Location": "https://new.example.com/hooks"}))
    event = trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    assert len(receiver.requests) == 1
    attempt = WebhookAttempt.objects.get()
    assert attempt.outcome == "failed" and attempt.status_code == 301
    assert attempt.error_class == "http_status"
    assert "Update the endpoint's URL" in attempt.error and "new.example.com" in attempt.error
    delivery = Delivery.objects.get(event=event)
    assert delivery.status == "queued" and "Update the endpoint's URL" in delivery.last_error


def test_timeout_is_recorded_and_retried(endpoint, receiver, settings,
                                         django_capture_on_commit_callbacks):
    settings.OUTBOUND_TOTAL_TIMEOUT = 1
    receiver.script(Reply(200, delay=2))
    event = trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    attempt = WebhookAttempt.objects.get()
    assert attempt.error_class == "timeout" and attempt.status_code is None
    assert Delivery.objects.get(event=event).status == "queued"


def test_response_excerpt_is_capped(endpoint, receiver, settings,
                                    django_capture_on_commit_callbacks):
    settings.WEBHOOK_RESPONSE_EXCERPT_BYTES = 10
    receiver.script(Reply(500, body=b"x" * 5000))
    trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    assert WebhookAttempt.objects.get().response_excerpt == "x" * 10


def test_oversized_event_fails_with_a_clear_error_and_sends_nothing(
        endpoint, receiver, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOK_MAX_PAYLOAD_BYTES = 1024
    event = trigger(django_capture_on_commit_callbacks, application=endpoint.application,
                    data={"blob": "x" * 2000})
    assert receiver.requests == []
    delivery = Delivery.objects.get(event=event)
    assert delivery.status == "failed"
    assert "over the 1024-byte limit" in delivery.last_error
    attempt = WebhookAttempt.objects.get()
    assert attempt.error_class == "too_large" and "1024" in attempt.error


def test_logs_keep_headers_with_secrets_redacted(receiver, django_capture_on_commit_callbacks):
    webhook_rule()
    endpoint = EndpointFactory(url=receiver.url, headers={"Authorization": "Bearer s3cr3t-token",
                                                          "X-Api-Key": "k3y-value",
                                                          "X-Tenant": "acme"})
    endpoint_secret_regenerate(endpoint=endpoint)
    trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    [request] = receiver.requests
    logged = WebhookAttempt.objects.get().request_headers
    stored = json.dumps(logged)
    for secret_value in ("s3cr3t-token", "k3y-value", endpoint.signing_secret,
                         *request.headers["webhook-signature"].split(" ")):
        assert secret_value not in stored
    assert logged["X-Tenant"] == "acme"
    assert logged["webhook-id"] == request.headers["webhook-id"]
    assert logged["webhook-signature"] == "v1,[redacted] v1,[redacted]"


def test_a_receiver_echoing_secret_headers_does_not_make_them_readable(
        receiver, django_capture_on_commit_callbacks):
    webhook_rule()
    endpoint = EndpointFactory(url=receiver.url, headers={
        "Authorization": "Bearer integrator-s3cret-token", "X-Api-Key": "key-0123456789",
        "X-Tenant": "acme-public"})
    # What a receiver that prints its request back would answer (a debugging endpoint, say).
    receiver.script(Reply(500, body=b"Authorization: Bearer integrator-s3cret-token\n"
                                    b"X-Api-Key: key-0123456789\nX-Tenant: acme-public\n"))
    trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    attempt = WebhookAttempt.objects.get()
    assert "s3cret" not in attempt.response_excerpt and "0123456789" not in attempt.response_excerpt
    assert attempt.response_excerpt == ("Authorization: [redacted]\nX-Api-Key: [redacted]\n"
                                        "X-Tenant: acme-public\n")
