"""The management API: every path, validation, scopes, and one Application per key."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import make_api_key
from tests.webhooks.factories import EndpointFactory, webhook_rule
from tests.webhooks.helpers import trigger, verify_with_both_libraries
from tests.webhooks.receiver import Reply
from webhooks.models import Endpoint, EndpointSecret, WebhookAttempt, WebhookMessage
from webhooks.services.messages import endpoint_test_send

pytestmark = pytest.mark.django_db
BASE = "/api/webhooks/configurations"


def client_for(*, application=None, scopes=None) -> APIClient:
    key, secret = make_api_key(application=application, scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    client.application = key.application
    return client


@pytest.fixture
def created(api, receiver):
    response = api.post(BASE, {"url": receiver.url, "description": "orders to the shop",
                               "event_types": ["order.shipped", "invoices.*"]}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_create_answers_the_endpoint_and_its_secret_once(api, receiver, created):
    assert created["secret"].startswith("whsec_") and len(created["secret"]) == 6 + 44
    assert created["url"] == receiver.url and created["enabled"] is True
    assert created["event_types"] == ["order.shipped", "invoices.*"]
    assert created["health"] == {"last_success_at": None, "failing_since": None,
                                 "success_rate_24h": None}
    assert EndpointSecret.objects.get().secret == created["secret"]
    # Never again: not in the detail, the list, an update or the logs.
    for response in (api.get(f"{BASE}/{created['id']}"), api.get(BASE),
                     api.patch(f"{BASE}/{created['id']}", {"description": "x"}, format="json"),
                     api.get(f"{BASE}/{created['id']}/logs")):
        assert response.status_code == 200
        assert created["secret"] not in response.content.decode()
        assert "whsec_" not in response.content.decode()


def test_secret_is_encrypted_at_rest(api, created):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM webhooks_endpointsecret")
        [(stored,)] = cursor.fetchall()
    assert created["secret"] not in stored and stored.startswith("enc1:")


def test_list_shows_only_the_callers_endpoints_paginated(api):
    mine = EndpointFactory(application=api.application)
    EndpointFactory()  # another Application's
    body = api.get(f"{BASE}/").json()  # trailing slash works too
    assert body["count"] == 1 and [e["id"] for e in body["results"]] == [str(mine.pk)]


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_another_applications_endpoint_is_404(api, public_dns, method):
    other = EndpointFactory()
    response = getattr(api, method)(f"{BASE}/{other.pk}", {"url": "https://x.example.com"},
                                    format="json")
    assert response.status_code == 404
    assert Endpoint.objects.filter(pk=other.pk, url=other.url).exists()


@pytest.mark.parametrize("path", ["logs", "messages"])
def test_another_applications_logs_are_404(api, path):
    other = EndpointFactory()
    assert api.get(f"{BASE}/{other.pk}/{path}").status_code == 404


@pytest.mark.parametrize("path", ["test", "regenerate-secret", "expire-old-secrets", "recover"])
def test_another_applications_actions_are_404(api, path):
    other = EndpointFactory()
    before = list(EndpointSecret.objects.values_list("pk", flat=True))
    response = api.post(f"{BASE}/{other.pk}/{path}", {"since": "2020-01-01T00:00:00Z"},
                        format="json")
    assert response.status_code == 404
    assert list(EndpointSecret.objects.values_list("pk", flat=True)) == before
    assert not WebhookAttempt.objects.exists()


def test_unknown_or_malformed_ids_are_404(api):
    assert api.get(f"{BASE}/00000000-0000-0000-0000-000000000000").status_code == 404
    assert api.get(f"{BASE}/not-an-id").status_code == 404


@pytest.mark.parametrize("body, field", [
    ({}, "url"),
    ({"url": "ftp://example.com/x"}, "url"),
    ({"url": "https://user:pw@example.com/x"}, "url"),
    ({"url": "https://example.com/x", "event_types": "order.shipped"}, "event_types"),
    ({"url": "https://example.com/x", "event_types": ["bad type!"]}, "event_types"),
    ({"url": "https://example.com/x", "headers": {"webhook-id": "x"}}, "headers"),
    ({"url": "https://example.com/x", "headers": {"X-A": "line\nbreak"}}, "headers"),
    ({"url": "https://example.com/x", "headers": ["X-A"]}, "headers"),
    ({"url": "https://example.com/x", "secret": "not-a-secret"}, "secret"),
    ({"url": "https://example.com/x", "secret": "whsec_c2hvcnQ="}, "secret"),
    ({"url": "https://example.com/x", "enabled": "maybe"}, "enabled"),
    ({"url": "https://example.com/x", "surprise": 1}, "surprise"),
])
def test_bad_input_is_400_naming_the_field_and_writes_nothing(api, public_dns, body, field):
    response = api.post(BASE, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Endpoint.objects.exists()


def test_own_secret_can_be_brought_in(api, receiver, django_capture_on_commit_callbacks):
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    response = api.post(BASE, {"url": receiver.url, "secret": secret}, format="json")
    assert response.status_code == 201 and response.json()["secret"] == secret
    webhook_rule()
    trigger(django_capture_on_commit_callbacks, application=api.application)
    verify_with_both_libraries(secret, receiver.requests[0])


def test_missing_scope_is_403(api, receiver, created):
    reader = client_for(application=api.application, scopes=["webhooks:read"])
    assert reader.get(BASE).status_code == 200
    assert reader.get(f"{BASE}/{created['id']}/logs").status_code == 200
    for response in (reader.post(BASE, {"url": receiver.url}, format="json"),
                     reader.patch(f"{BASE}/{created['id']}", {"enabled": False}, format="json"),
                     reader.delete(f"{BASE}/{created['id']}"),
                     reader.post(f"{BASE}/{created['id']}/test"),
                     reader.post(f"{BASE}/{created['id']}/regenerate-secret")):
        assert response.status_code == 403
        assert "webhooks:write" in response.json()["detail"]
    writer = client_for(application=api.application, scopes=["webhooks:write"])
    response = writer.get(BASE)
    assert response.status_code == 403 and "webhooks:read" in response.json()["detail"]


def test_no_key_is_401(anon_api):
    assert anon_api.get(BASE).status_code == 401


def test_put_replaces_and_patch_changes_only_what_is_given(api, receiver, created):
    url = f"{BASE}/{created['id']}"
    response = api.put(url, {"url": receiver.url + "/v2", "event_types": ["x.*"]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["url"] == receiver.url + "/v2"
    assert response.json()["event_types"] == ["x.*"]
    assert response.json()["description"] == "orders to the shop"
    assert api.put(url, {"description": "no url"}, format="json").status_code == 400
    response = api.patch(url, {"description": "renamed"}, format="json")
    assert response.json()["description"] == "renamed"
    assert response.json()["url"] == receiver.url + "/v2"


def test_update_validates_the_url_again(api, created):
    response = api.patch(f"{BASE}/{created['id']}", {"url": "http://10.0.0.1/x"}, format="json")
    assert response.status_code == 400 and "url" in response.json()
    assert Endpoint.objects.get().url == created["url"]


def test_headers_are_masked_and_a_masked_value_sent_back_keeps_the_secret(api, receiver):
    response = api.post(BASE, {"url": receiver.url, "headers": {
        "Authorization": "Bearer s3cr3t-value", "X-Tenant": "acme"}}, format="json")
    shown = response.json()["headers"]
    assert shown["X-Tenant"] == "acme" and "s3cr3t-value" not in str(shown)
    assert shown["Authorization"].endswith("alue")
    endpoint_id = response.json()["id"]
    api.put(f"{BASE}/{endpoint_id}", {"url": receiver.url, "headers": shown}, format="json")
    assert Endpoint.objects.get().headers == {"Authorization": "Bearer s3cr3t-value",
                                              "X-Tenant": "acme"}


def test_disable_and_enable(api, created):
    url = f"{BASE}/{created['id']}"
    body = api.patch(url, {"enabled": False}, format="json").json()
    assert body["enabled"] is False and body["disabled_reason"] == "manual"
    Endpoint.objects.update(failing_since=timezone.now())
    body = api.patch(url, {"enabled": True}, format="json").json()
    assert body["enabled"] is True and body["disabled_reason"] == ""
    assert body["health"]["failing_since"] is None


def test_delete(api, created):
    assert api.delete(f"{BASE}/{created['id']}").status_code == 204
    assert not Endpoint.objects.exists() and not EndpointSecret.objects.exists()


def test_test_sends_a_signed_webhook_test_message_and_reports(api, receiver, created):
    receiver.script(Reply(202, body=b'{"received": true}'))
    response = api.post(f"{BASE}/{created['id']}/test")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True and body["status_code"] == 202
    assert body["response_excerpt"] == '{"received": true}'
    assert isinstance(body["latency_ms"], int)
    [request] = receiver.requests
    payload = verify_with_both_libraries(created["secret"], request)
    assert payload["type"] == "webhook.test" and payload["data"]["endpoint_id"] == created["id"]
    assert body["message_id"] == request.headers["webhook-id"]


def test_test_reports_a_failing_endpoint(api, receiver, created):
    receiver.script(Reply(500, body=b"boom"))
    body = api.post(f"{BASE}/{created['id']}/test/").json()
    assert body["success"] is False and body["status_code"] == 500
    assert body["response_excerpt"] == "boom" and body["error_class"] == "http_status"


def test_logs_list_attempts_newest_first_with_filters(api, receiver, created):
    endpoint = Endpoint.objects.get()
    receiver.script(Reply(500))
    endpoint_test_send(endpoint=endpoint)
    endpoint_test_send(endpoint=endpoint)
    body = api.get(f"{BASE}/{created['id']}/logs?page_size=1").json()
    assert body["count"] == 2 and len(body["results"]) == 1 and body["next"]
    [latest] = body["results"]
    assert latest["outcome"] == "succeeded" and latest["trigger"] == "test"
    assert set(latest) >= {"message_id", "request_headers", "status_code", "response_excerpt",
                           "latency_ms", "error_class", "next_attempt_at", "started_at"}
    failed = api.get(f"{BASE}/{created['id']}/logs?outcome=failed").json()
    assert failed["count"] == 1 and failed["results"][0]["status_code"] == 500
    assert api.get(f"{BASE}/{created['id']}/logs?outcome=nope").status_code == 400


def test_regenerate_secret_keeps_the_old_one_for_the_grace_period(api, created):
    response = api.post(f"{BASE}/{created['id']}/regenerate-secret",
                        {"grace_period_seconds": 3600}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_") and body["secret"] != created["secret"]
    assert body["previous_secrets_valid_until"] is not None
    detail = api.get(f"{BASE}/{created['id']}").json()
    assert [s["expires_at"] is None for s in detail["secrets"]] == [True, False]
    assert body["secret"] not in str(detail)


def test_regenerate_without_a_body_uses_the_default_grace(api, created, settings):
    body = api.post(f"{BASE}/{created['id']}/regenerate-secret").json()
    until = timezone.datetime.fromisoformat(body["previous_secrets_valid_until"])
    expected = timezone.now() + timedelta(seconds=settings.WEBHOOK_SECRET_GRACE_SECONDS)
    assert abs((until - expected).total_seconds()) < 60


@pytest.mark.parametrize("grace", [-1, 8 * 24 * 3600, "soon"])
def test_regenerate_refuses_a_grace_period_outside_0_to_7_days(api, created, grace):
    response = api.post(f"{BASE}/{created['id']}/regenerate-secret",
                        {"grace_period_seconds": grace}, format="json")
    assert response.status_code == 400 and "grace_period_seconds" in response.json()
    assert EndpointSecret.objects.count() == 1


def test_expire_old_secrets_now(api, created):
    api.post(f"{BASE}/{created['id']}/regenerate-secret", format="json")
    response = api.post(f"{BASE}/{created['id']}/expire-old-secrets")
    assert response.status_code == 200 and response.json() == {"expired": 1}
    assert EndpointSecret.objects.get().expires_at is None


def test_resend_one_message_with_the_same_webhook_id(api, receiver, created,
                                                     django_capture_on_commit_callbacks):
    webhook_rule()
    trigger(django_capture_on_commit_callbacks, application=api.application)
    message = WebhookMessage.objects.get()
    response = api.post(f"{BASE}/{created['id']}/messages/{message.webhook_id}/resend")
    assert response.status_code == 200, response.content
    assert response.json()["success"] is True
    first, again = receiver.requests
    assert first.headers["webhook-id"] == again.headers["webhook-id"] == message.webhook_id
    assert first.body == again.body
    assert WebhookAttempt.objects.filter(trigger="manual").count() == 1
    assert api.post(f"{BASE}/{created['id']}/messages/msg_unknown/resend").status_code == 404


def test_messages_list(api, receiver, created, django_capture_on_commit_callbacks):
    webhook_rule()
    event = trigger(django_capture_on_commit_callbacks, application=api.application)
    body = api.get(f"{BASE}/{created['id']}/messages").json()
    [message] = body["results"]
    assert message["event"] == str(event.pk) and message["status"] == "succeeded"
    assert message["payload"]["data"] == {"order_id": "A-1"}
    assert message["id"] == receiver.requests[0].headers["webhook-id"]


def test_recover_resends_failed_messages_since_a_time(api, receiver, created,
                                                      django_capture_on_commit_callbacks):
    webhook_rule()
    receiver.script(Reply(410))  # fails the first message and disables the endpoint
    trigger(django_capture_on_commit_callbacks, application=api.application)
    assert WebhookMessage.objects.get().status == "failed"
    api.patch(f"{BASE}/{created['id']}", {"enabled": True}, format="json")
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{BASE}/{created['id']}/recover", {"since": since}, format="json")
    assert response.status_code == 202 and response.json() == {"queued": 1}
    assert len(receiver.requests) == 2
    assert receiver.requests[0].headers["webhook-id"] == receiver.requests[1].headers["webhook-id"]
    assert WebhookMessage.objects.get().status == "succeeded"


def test_recover_skips_messages_before_since_and_validates(api, created,
                                                           django_capture_on_commit_callbacks):
    response = api.post(f"{BASE}/{created['id']}/recover",
                        {"since": timezone.now().isoformat()}, format="json")
    assert response.json() == {"queued": 0}
    assert api.post(f"{BASE}/{created['id']}/recover", {}, format="json").status_code == 400
    response = api.post(f"{BASE}/{created['id']}/recover",
                        {"since": "2025-01-02T00:00:00Z", "until": "2025-01-01T00:00:00Z"},
                        format="json")
    assert response.status_code == 400 and "until" in response.json()


def test_schema_lists_the_webhook_paths(client):
    schema = client.get("/api/schema/").content.decode()
    for path in ("/api/webhooks/configurations", "/api/webhooks/configurations/{id}/logs",
                 "/api/webhooks/configurations/{id}/test",
                 "/api/webhooks/configurations/{id}/regenerate-secret"):
        assert path in schema
