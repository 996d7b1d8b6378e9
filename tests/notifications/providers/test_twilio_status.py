"""Twilio status callbacks: real signatures from the SDK, 403 otherwise, forward-only moves."""

from __future__ import annotations

import pytest
from django.test import Client
from twilio.request_validator import RequestValidator

from notifications.models import Delivery, DeliveryStatus
from tests.notifications.providers.factories import pending_delivery

pytestmark = pytest.mark.django_db

AUTH_TOKEN = "twilio-auth-token-0123456789abcd"
PUBLIC = "https://clarion.example.com"
SID = "SM" + "ab" * 16


@pytest.fixture(autouse=True)
def twilio_settings(settings):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.PUBLIC_BASE_URL = PUBLIC


def sent_sms(status: str = DeliveryStatus.SENT, message_id: str = SID) -> Delivery:
    delivery = pending_delivery("sms", "+14155550100")
    Delivery.objects.filter(pk=delivery.pk).update(status=status, provider_message_id=message_id)
    return delivery


def callback(delivery: Delivery | None, *, status: str, error_code: str = "",
             token: str = AUTH_TOKEN, signature: str | None = None, sid: str = SID):
    """POST a status callback signed the way Twilio signs it (or with ``signature``)."""
    path = "/hooks/twilio/status" + (f"?delivery={delivery.pk}" if delivery else "")
    params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "0" * 32,
              "MessageStatus": status, "SmsStatus": status, "To": "+14155550100",
              "From": "+14155550199", "ApiVersion": "2010-04-01"}
    if error_code:
        params["ErrorCode"] = error_code
    if signature is None:
        signature = RequestValidator(token).compute_signature(PUBLIC + path, params)
    return Client().post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


def test_delivered_callback_marks_the_delivery_delivered():
    delivery = sent_sms()

    response = callback(delivery, status="delivered")

    assert response.status_code == 204
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.error_code == ""


def test_undelivered_callback_records_twilios_error_code():
    delivery = sent_sms()

    callback(delivery, status="undelivered", error_code="30003")

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.UNDELIVERED
    assert delivery.error_code == "30003"
    assert "undelivered (error 30003)" in delivery.last_error


def test_failed_callback_fails_the_delivery_with_the_code():
    delivery = sent_sms()

    callback(delivery, status="failed", error_code="30008")

    delivery.refresh_from_db()
    assert (delivery.status, delivery.error_code) == (DeliveryStatus.FAILED, "30008")


def test_wrong_signature_is_refused_and_changes_nothing():
    delivery = sent_sms()

    response = callback(delivery, status="delivered", token="someone-elses-token")

    assert response.status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT


def test_missing_signature_is_refused():
    delivery = sent_sms()
    assert callback(delivery, status="delivered", signature="").status_code == 403


def test_tampered_field_breaks_the_signature():
    delivery = sent_sms()
    path = f"/hooks/twilio/status?delivery={delivery.pk}"
    signed = {"MessageSid": SID, "MessageStatus": "failed"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + path, signed)

    response = Client().post(path, {**signed, "MessageStatus": "delivered"},
                             HTTP_X_TWILIO_SIGNATURE=signature)

    assert response.status_code == 403


def test_late_sent_callback_does_not_undo_delivered():
    delivery = sent_sms(status=DeliveryStatus.DELIVERED)

    assert callback(delivery, status="sent").status_code == 204

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED


def test_callback_before_the_send_call_returned_records_the_message():
    delivery = sent_sms(status=DeliveryStatus.SENDING, message_id="")

    callback(delivery, status="delivered")

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.provider_message_id == SID and delivery.lease_expires_at is None


def test_callback_for_another_message_cannot_move_this_delivery():
    delivery = sent_sms(message_id="SM" + "cd" * 16)

    callback(delivery, status="failed", error_code="30005")

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT


def test_callback_without_delivery_is_matched_by_message_sid():
    delivery = sent_sms()

    callback(None, status="delivered")

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED


def test_without_auth_token_every_callback_is_refused(settings):
    settings.TWILIO_AUTH_TOKEN = ""
    delivery = sent_sms()
    assert callback(delivery, status="delivered", token="x").status_code == 403


def test_get_is_not_allowed():
    assert Client().get("/hooks/twilio/status").status_code == 405
