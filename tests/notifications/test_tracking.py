"""ESP tracking webhooks (Mailgun, signed exactly as Mailgun signs them) update e-mail deliveries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time

import pytest
from django.test import Client

from notifications.models import Delivery, Subscriber, TrackingEvent
from notifications.services.events import event_ingest
from tests.factories import EmailTemplateFactory, SubscriberFactory

pytestmark = pytest.mark.django_db

SIGNING_KEY = "mailgun-signing-key-for-tests"
URL = "/hooks/anymail/mailgun/tracking/"
AUTH = "Basic " + base64.b64encode(b"hooks:s3cret").decode()


@pytest.fixture(autouse=True)
def anymail_settings(settings):
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY, "WEBHOOK_SECRET": "hooks:s3cret"}


def mailgun_payload(delivery: Delivery, event: str, *, key: str = SIGNING_KEY, token=None,
                    **event_data) -> dict:
    """A Mailgun "event-data" webhook body, signed HMAC-SHA256(key, timestamp + token)."""
    timestamp = str(int(time.time()))
    token = token or secrets.token_hex(25)
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    # Mailgun reports the Message-ID header without its angle brackets.
    message_id = delivery.provider_message_id.strip("<>")
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": {
            "event": event, "timestamp": time.time(), "id": secrets.token_urlsafe(16),
            "recipient": delivery.address, "tags": [], "user-variables": {},
            "message": {"headers": {"to": delivery.address, "message-id": message_id,
                                    "from": "clarion@localhost", "subject": "Order shipped"},
                        "attachments": [], "size": 1234},
            **event_data,
        },
    }


def post(payload: dict, auth: str | None = AUTH):
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    return Client().post(URL, json.dumps(payload), content_type="application/json", **headers)


def send_email(capture, subscriber, rule=None):
    rule = rule or EmailTemplateFactory().rule
    with capture(execute=True):
        event, _ = event_ingest(event_type=rule.event_type, recipients=[subscriber.external_id],
                                data={"order_id": "A-1"})
    delivery = Delivery.objects.get(event=event, channel="email")
    assert delivery.status == "sent" and delivery.provider_message_id
    return delivery, rule


def test_delivered_moves_the_delivery_and_is_recorded(django_capture_on_commit_callbacks):
    delivery, _ = send_email(django_capture_on_commit_callbacks, SubscriberFactory())
    response = post(mailgun_payload(delivery, "delivered", **{
        "delivery-status": {"code": 250, "message": "OK", "description": ""}}))
    assert response.status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    [tracked] = delivery.tracking.all()
    assert tracked.kind == "delivered" and tracked.detail["esp"] == "Mailgun"


def test_hard_bounce_marks_the_address_undeliverable_and_later_mail_is_skipped(
        django_capture_on_commit_callbacks, mailoutbox):
    user = SubscriberFactory()
    delivery, rule = send_email(django_capture_on_commit_callbacks, user)
    post(mailgun_payload(delivery, "delivered"))
    response = post(mailgun_payload(delivery, "failed", severity="permanent", reason="bounce", **{
        "delivery-status": {"code": 550, "description": "",
                            "message": "5.1.1 The email account does not exist"}}))
    assert response.status_code == 200
    delivery.refresh_from_db()
    user.refresh_from_db()
    assert delivery.status == "bounced" and "does not exist" in delivery.last_error
    assert user.email_undeliverable_at is not None
    assert user.email_undeliverable_reason.startswith("Hard bounce: 5.1.1")

    with django_capture_on_commit_callbacks(execute=True):
        event, _ = event_ingest(event_type=rule.event_type, recipients=[user.external_id],
                                data={"order_id": "A-2"})
    later = Delivery.objects.get(event=event, channel="email")
    assert (later.status, later.skip_reason) == ("skipped", "undeliverable")
    assert later.attempts == 0  # skipped when dispatched, never handed to a worker
    assert len(mailoutbox) == 1


def test_temporary_failure_is_recorded_but_changes_nothing(django_capture_on_commit_callbacks):
    user = SubscriberFactory()
    delivery, _ = send_email(django_capture_on_commit_callbacks, user)
    post(mailgun_payload(delivery, "failed", severity="temporary", reason="generic"))
    delivery.refresh_from_db()
    user.refresh_from_db()
    assert delivery.status == "sent" and user.email_undeliverable_at is None
    assert delivery.tracking.get().kind == "deferred"


def test_complaint_marks_spam_and_undeliverable(django_capture_on_commit_callbacks):
    user = SubscriberFactory()
    delivery, _ = send_email(django_capture_on_commit_callbacks, user)
    post(mailgun_payload(delivery, "delivered"))
    assert post(mailgun_payload(delivery, "complained")).status_code == 200
    delivery.refresh_from_db()
    user.refresh_from_db()
    assert delivery.status == "complained"
    assert user.email_undeliverable_reason.startswith("Spam complaint")


def test_open_and_click_set_their_times_without_changing_status(django_capture_on_commit_callbacks):
    delivery, _ = send_email(django_capture_on_commit_callbacks, SubscriberFactory())
    post(mailgun_payload(delivery, "delivered"))
    post(mailgun_payload(delivery, "opened", **{"client-info": {"user-agent": "Mail/1.0"}}))
    delivery.refresh_from_db()
    assert delivery.opened_at is not None and delivery.clicked_at is None
    opened_at = delivery.opened_at
    post(mailgun_payload(delivery, "clicked", url="https://shop.example/orders/A-1"))
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert delivery.clicked_at is not None and delivery.opened_at == opened_at
    assert delivery.tracking.get(kind="clicked").detail["click_url"] == \
        "https://shop.example/orders/A-1"


def test_never_moves_backwards(django_capture_on_commit_callbacks):
    delivery, _ = send_email(django_capture_on_commit_callbacks, SubscriberFactory())
    post(mailgun_payload(delivery, "failed", severity="permanent", reason="bounce"))
    post(mailgun_payload(delivery, "delivered"))  # late and out of order
    delivery.refresh_from_db()
    assert delivery.status == "bounced"


def test_bad_signature_or_missing_auth_is_rejected_and_changes_nothing(
        django_capture_on_commit_callbacks):
    user = SubscriberFactory()
    delivery, _ = send_email(django_capture_on_commit_callbacks, user)
    forged = mailgun_payload(delivery, "failed", key="not-the-key", severity="permanent")
    assert post(forged).status_code == 400
    good_but_no_auth = mailgun_payload(delivery, "failed", severity="permanent")
    assert post(good_but_no_auth, auth=None).status_code == 400
    tampered = mailgun_payload(delivery, "delivered")
    tampered["signature"]["timestamp"] = str(int(tampered["signature"]["timestamp"]) + 1)
    assert post(tampered).status_code == 400
    delivery.refresh_from_db()
    user.refresh_from_db()
    assert delivery.status == "sent" and user.email_undeliverable_at is None
    assert not TrackingEvent.objects.exists()


def test_the_same_event_twice_is_recorded_once(django_capture_on_commit_callbacks):
    delivery, _ = send_email(django_capture_on_commit_callbacks, SubscriberFactory())
    payload = mailgun_payload(delivery, "opened")
    assert post(payload).status_code == 200
    assert post(payload).status_code == 200
    assert TrackingEvent.objects.filter(delivery=delivery).count() == 1


def test_unknown_message_is_ignored():
    fake = Delivery(address="x@example.com", provider_message_id="<nobody@example.com>")
    assert post(mailgun_payload(fake, "delivered")).status_code == 200
    assert not TrackingEvent.objects.exists()


def test_undeliverable_is_also_enforced_at_send_time(django_capture_on_commit_callbacks,
                                                     mailoutbox, settings):
    """An address that bounced after dispatch (while the e-mail waited) is not sent to."""
    from django.utils import timezone

    from notifications.services.deliveries import delivery_send

    user = SubscriberFactory()
    rule = EmailTemplateFactory().rule
    rule.delay_seconds = 600
    rule.save()
    with django_capture_on_commit_callbacks(execute=True):
        event, _ = event_ingest(event_type=rule.event_type, recipients=[user.external_id],
                                data={"order_id": "A-1"})
    waiting = Delivery.objects.get(event=event, channel="email")
    assert waiting.status == "queued"  # held by the rule's delay
    Subscriber.objects.filter(pk=user.pk).update(email_undeliverable_at=timezone.now())
    Delivery.objects.filter(pk=waiting.pk).update(next_attempt_at=None)
    delivery_send(delivery_id=waiting.pk)
    waiting.refresh_from_db()
    assert (waiting.status, waiting.skip_reason) == ("skipped", "undeliverable")
    assert mailoutbox == []


def test_admin_action_clears_the_mark(admin_client):
    bounced = SubscriberFactory(email_undeliverable_reason="Hard bounce: 550")
    Subscriber.objects.filter(pk=bounced.pk).update(email_undeliverable_at="2026-01-01T00:00Z")
    response = admin_client.post("/admin/notifications/subscriber/", {
        "action": "mark_email_deliverable", "_selected_action": [bounced.pk]}, follow=True)
    assert "1 subscriber(s) can receive e-mail again" in response.content.decode()
    bounced.refresh_from_db()
    assert bounced.email_undeliverable_at is None and bounced.email_undeliverable_reason == ""


def test_admin_and_api_show_the_lifecycle(django_capture_on_commit_callbacks, admin_client, api):
    user = SubscriberFactory()
    rule = EmailTemplateFactory().rule
    with django_capture_on_commit_callbacks(execute=True):
        event, _ = event_ingest(event_type=rule.event_type, recipients=[user.external_id],
                                data={"order_id": "A-1"}, application=api.application)
    delivery = Delivery.objects.get(event=event)
    post(mailgun_payload(delivery, "delivered"))
    post(mailgun_payload(delivery, "opened"))
    page = admin_client.get(f"/admin/notifications/delivery/{delivery.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200 and "tracking (reported by the provider)" in html.lower()
    assert "opened" in html and "Mailgun" in html
    body = api.get(f"/api/events/{event.pk}").json()
    [shown] = body["deliveries"]
    assert shown["status"] == "delivered" and shown["opened_at"] is not None
    assert [t["kind"] for t in shown["tracking"]] == ["delivered", "opened"]


def postmark_delivered(delivery: Delivery) -> dict:
    return {"RecordType": "Delivery", "ServerID": 1, "MessageStream": "outbound",
            "MessageID": delivery.provider_message_id.strip("<>"), "Recipient": delivery.address,
            "Tag": "", "DeliveredAt": "2026-11-21T16:33:54Z", "Details": "Test delivery",
            "Metadata": {}}


@pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailInsecureWebhookWarning")
def test_unsigned_esp_without_webhook_secret_is_ignored(settings,
                                                        django_capture_on_commit_callbacks):
    delivery, _ = send_email(django_capture_on_commit_callbacks, SubscriberFactory())
    settings.ANYMAIL = {}  # Postmark does not sign webhooks: only basic auth protects them
    response = Client().post("/hooks/anymail/postmark/tracking/",
                             json.dumps(postmark_delivered(delivery)),
                             content_type="application/json")
    assert response.status_code == 200  # Anymail accepted it, but Clarion does not trust it
    delivery.refresh_from_db()
    assert delivery.status == "sent" and not TrackingEvent.objects.exists()

    settings.ANYMAIL = {"WEBHOOK_SECRET": "hooks:s3cret"}
    response = Client().post("/hooks/anymail/postmark/tracking/",
                             json.dumps(postmark_delivered(delivery)),
                             content_type="application/json", HTTP_AUTHORIZATION=AUTH)
    assert response.status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
