"""The webhooks admin: endpoints with attempts inline and the actions on them and on messages."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import ApplicationFactory
from tests.webhooks.factories import EndpointFactory, webhook_rule
from tests.webhooks.helpers import trigger, verify_with_both_libraries
from tests.webhooks.receiver import Reply
from webhooks.models import Endpoint, EndpointSecret, WebhookAttempt, WebhookMessage
from webhooks.services.messages import endpoint_test_send

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:webhooks_endpoint_changelist"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def action(name: str, *objects, **extra) -> dict:
    return {"action": name, "_selected_action": [str(o.pk) for o in objects], **extra}


def test_adding_an_endpoint_shows_its_secret_once(admin_client, receiver):
    app = ApplicationFactory()
    response = admin_client.post(reverse("admin:webhooks_endpoint_add"), {
        "application": app.pk, "url": receiver.url, "description": "shop",
        "event_types_text": "order.shipped\ninvoices.*", "headers": '{"X-Tenant": "acme"}',
        "enabled": "on", **_inline()})
    assert response.status_code == 200, response.content
    endpoint = Endpoint.objects.get()
    secret = EndpointSecret.objects.get().secret
    page = response.content.decode()
    assert secret in page and "shown only on this page" in page
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert endpoint.event_types == ["order.shipped", "invoices.*"]
    assert endpoint.headers == {"X-Tenant": "acme"}
    change = admin_client.get(reverse("admin:webhooks_endpoint_change", args=[endpoint.pk]))
    assert change.status_code == 200 and secret not in change.content.decode()


def test_adding_an_internal_url_is_refused_with_the_reason(admin_client):
    response = admin_client.post(reverse("admin:webhooks_endpoint_add"), {
        "application": ApplicationFactory().pk, "url": "http://169.254.169.254/latest",
        "event_types_text": "", "headers": "{}", "enabled": "on", **_inline()})
    assert response.status_code == 200
    assert "link-local" in response.content.decode() and not Endpoint.objects.exists()


def test_change_page_lists_attempts_inline_and_masks_header_secrets(admin_client, receiver):
    endpoint = EndpointFactory(url=receiver.url, headers={"Authorization": "Bearer s3cr3t-xyz1"})
    endpoint_test_send(endpoint=endpoint)
    page = admin_client.get(reverse("admin:webhooks_endpoint_change", args=[endpoint.pk])
                            ).content.decode()
    attempt = WebhookAttempt.objects.get()
    assert "attempts (newest 50)" in page.lower() and f"{attempt.latency_ms}" in page
    assert "s3cr3t-xyz1" not in page and endpoint.signing_secret not in page


def test_editing_keeps_a_masked_header_value(admin_client, receiver):
    endpoint = EndpointFactory(url=receiver.url, headers={"Authorization": "Bearer s3cr3t-xyz1"},
                               application=ApplicationFactory())
    url = reverse("admin:webhooks_endpoint_change", args=[endpoint.pk])
    form = admin_client.get(url).context["adminform"].form
    masked = form.initial["headers"]["Authorization"]
    response = admin_client.post(url, {
        "url": receiver.url, "description": "renamed", "event_types_text": "",
        "headers": f'{{"Authorization": "{masked}"}}', "enabled": "on"} | _inline(),
        follow=True)
    assert response.status_code == 200
    endpoint.refresh_from_db()
    assert endpoint.description == "renamed"
    assert endpoint.headers == {"Authorization": "Bearer s3cr3t-xyz1"}


def test_editing_url_and_enabled_is_saved_and_checked(admin_client, receiver):
    endpoint = EndpointFactory(url=receiver.url)
    url = reverse("admin:webhooks_endpoint_change", args=[endpoint.pk])
    form = {"url": receiver.url + "/v2", "description": "", "event_types_text": "",
            "headers": "{}"} | _inline()  # "enabled" unticked
    assert admin_client.post(url, form).status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.url == receiver.url + "/v2"
    assert endpoint.enabled is False and endpoint.disabled_reason == "manual"
    response = admin_client.post(url, form | {"url": "http://10.0.0.1/x"})
    assert response.status_code == 200 and "private" in response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.url == receiver.url + "/v2"


def _inline() -> dict:
    prefix = "attempts"
    return {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}


def test_send_test_action_reports_the_answer(admin_client, receiver):
    endpoint = EndpointFactory(url=receiver.url)
    receiver.script(Reply(204, body=b""))
    response = admin_client.post(reverse(CHANGELIST), action("send_test", endpoint), follow=True)
    assert "HTTP 204" in response.content.decode()
    verify_with_both_libraries(endpoint.signing_secret, receiver.requests[0])


def test_regenerate_secret_asks_for_the_grace_and_shows_the_new_secret_once(admin_client):
    endpoint = EndpointFactory()
    first = admin_client.post(reverse(CHANGELIST), action("regenerate_secret", endpoint))
    assert "grace_period_seconds" in first.content.decode()
    assert EndpointSecret.objects.count() == 1
    response = admin_client.post(reverse(CHANGELIST), action(
        "regenerate_secret", endpoint, apply="1", grace_period_seconds="7200"))
    current = EndpointSecret.objects.get(expires_at__isnull=True)
    previous = EndpointSecret.objects.get(expires_at__isnull=False)
    assert current.secret in response.content.decode()
    assert previous.secret == endpoint.signing_secret
    assert abs((previous.expires_at - timezone.now()).total_seconds() - 7200) < 60
    listing = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert current.secret not in listing


def test_expire_old_secrets_action(admin_client):
    endpoint = EndpointFactory()
    EndpointSecret.objects.update(expires_at=timezone.now() + timezone.timedelta(hours=1))
    EndpointSecret.objects.create(endpoint=endpoint, secret=EndpointFactory().signing_secret)
    response = admin_client.post(reverse(CHANGELIST), action("expire_old_secrets", endpoint),
                                 follow=True)
    assert "Expired 1 previous secret" in response.content.decode()
    assert EndpointSecret.objects.filter(endpoint=endpoint).count() == 1


def test_recover_failed_action_resends_failed_messages(admin_client, receiver,
                                                       django_capture_on_commit_callbacks):
    webhook_rule()
    endpoint = EndpointFactory(url=receiver.url)
    receiver.script(Reply(410))
    trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    assert WebhookMessage.objects.get().status == "failed"
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse(CHANGELIST), action(
            "recover_failed", endpoint, apply="1", since="2000-01-01 00:00:00"), follow=True)
    assert "Queued 1 failed message" in response.content.decode()
    assert WebhookMessage.objects.get().status == "succeeded" and len(receiver.requests) == 2


def test_resend_action_on_messages(admin_client, receiver, django_capture_on_commit_callbacks):
    webhook_rule()
    endpoint = EndpointFactory(url=receiver.url)
    trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    message = WebhookMessage.objects.get()
    response = admin_client.post(reverse("admin:webhooks_webhookmessage_changelist"),
                                 action("resend", message), follow=True)
    assert "1 succeeded" in response.content.decode()
    assert [r.headers["webhook-id"] for r in receiver.requests] == [message.webhook_id] * 2
    detail = admin_client.get(reverse("admin:webhooks_webhookmessage_change", args=[message.pk]))
    assert detail.status_code == 200 and "order.shipped" in detail.content.decode()
    attempt = WebhookAttempt.objects.first()
    page = admin_client.get(reverse("admin:webhooks_webhookattempt_change", args=[attempt.pk]))
    assert page.status_code == 200 and "v1,[redacted]" in page.content.decode()
