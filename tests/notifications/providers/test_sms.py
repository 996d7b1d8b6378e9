"""SMS through Twilio: requests checked by a mock generated from Twilio's own OpenAPI spec,
error codes answered by a local stand-in the way Twilio's API answers them."""

from __future__ import annotations

import base64

import pytest

from notifications.models import DeliveryStatus
from notifications.providers import PermanentError, TransientError
from notifications.providers.sms import SmsProvider, gsm7_normalise, is_gsm7
from tests.factories import SubscriberFactory
from tests.notifications.providers.factories import (
    chat_rule,
    only_delivery,
    pending_delivery,
    trigger,
)
from tests.notifications.providers.fake_service import Reply, scripted

pytestmark = pytest.mark.django_db

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "twilio-auth-token-0123456789abcd"
FROM = "+14155550199"
SERVICE_SID = "MG" + "fedcba9876543210" * 2
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


@pytest.fixture
def twilio_settings(settings):
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = FROM
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.PUBLIC_BASE_URL = "https://clarion.example.com"
    return settings


def twilio_error(status: int, code: int, message: str) -> Reply:
    """An error exactly as Twilio's REST API shapes it."""
    return Reply(status, {"code": code, "message": message, "status": status,
                          "more_info": f"https://www.twilio.com/docs/errors/{code}"})


# --- against the contract mock -------------------------------------------------------------


def test_sms_request_matches_twilios_contract_with_every_field(
        twilio_contract, twilio_settings, django_capture_on_commit_callbacks):
    user = SubscriberFactory(phone="+14155550100")
    chat_rule("sms", short_body="Your order \u2018{{ data.order_id }}\u2019 shipped \u2014 "
                                "track it\u2026")

    event = trigger(django_capture_on_commit_callbacks, to=[user.external_id])

    delivery = only_delivery(event)
    [request] = twilio_contract.requests
    assert (request.method, request.path) == ("POST", MESSAGES_PATH)
    expected_auth = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected_auth}"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.form == {
        "To": ["+14155550100"],
        "From": [FROM],
        "Body": ["Your order 'A-17' shipped - track it..."],
        "StatusCallback": [f"https://clarion.example.com/hooks/twilio/status"
                           f"?delivery={delivery.pk}"],
    }
    # Prism validated the request against the spec and answered with its example message.
    assert delivery.status == DeliveryStatus.SENT, delivery.last_error
    assert delivery.provider_message_id.startswith("SM")


def test_status_callback_named_in_the_request_moves_the_delivery_to_delivered(
        twilio_contract, twilio_settings, django_capture_on_commit_callbacks):
    from django.test import Client
    from twilio.request_validator import RequestValidator

    user = SubscriberFactory(phone="+14155550100")
    chat_rule("sms")
    delivery = only_delivery(trigger(django_capture_on_commit_callbacks, to=[user.external_id]))
    [callback_url] = twilio_contract.requests[0].form["StatusCallback"]
    params = {"MessageSid": delivery.provider_message_id, "MessageStatus": "delivered",
              "AccountSid": ACCOUNT_SID, "To": "+14155550100"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(callback_url, params)

    response = Client().post(callback_url.removeprefix("https://clarion.example.com"), params,
                             HTTP_X_TWILIO_SIGNATURE=signature)

    assert response.status_code == 204
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED


def test_messaging_service_replaces_the_from_number(twilio_contract, twilio_settings):
    twilio_settings.TWILIO_MESSAGING_SERVICE_SID = SERVICE_SID
    twilio_settings.PUBLIC_BASE_URL = ""

    result = SmsProvider().send(pending_delivery("sms", "+14155550100"))

    [request] = twilio_contract.requests
    assert request.form == {"To": ["+14155550100"], "MessagingServiceSid": [SERVICE_SID],
                            "Body": ["Disk almost full"]}
    assert result.provider_message_id.startswith("SM")


def test_contract_mock_refuses_a_request_the_spec_does_not_allow(twilio_contract,
                                                                 twilio_settings):
    # A malformed account SID breaks the path pattern of the spec: the mock says so.
    twilio_settings.TWILIO_ACCOUNT_SID = "not-an-account-sid"
    with pytest.raises(PermanentError, match="Twilio"):
        SmsProvider().send(pending_delivery("sms", "+14155550100"))
    assert twilio_contract.requests[0].path.startswith("/2010-04-01/Accounts/not-an-account-sid")


def test_invalid_number_is_refused_before_anything_is_sent(
        twilio_contract, twilio_settings, django_capture_on_commit_callbacks):
    user = SubscriberFactory(phone="+1415555")
    chat_rule("sms")

    delivery = only_delivery(trigger(django_capture_on_commit_callbacks, to=[user.external_id]))

    assert delivery.status == DeliveryStatus.FAILED
    assert "Not a valid recipient" in delivery.last_error
    assert twilio_contract.requests == []


# --- error codes, from a stand-in answering as Twilio does ---------------------------------


@pytest.fixture
def twilio_stub(service, twilio_settings):
    def start(*replies: Reply):
        stub = service(scripted(*replies))
        twilio_settings.TWILIO_API_BASE_URL = stub.url
        return stub
    return start


@pytest.mark.parametrize("code, meaning", [
    (21211, "invalid 'To' phone number"), (21614, "not a valid mobile number"),
    (21610, "replied STOP"), (21408, "region is not enabled")])
def test_invalid_recipient_codes_are_permanent_and_the_code_is_kept(
        twilio_stub, django_capture_on_commit_callbacks, code, meaning):
    stub = twilio_stub(twilio_error(400, code, "The 'To' number +14155550100 is not valid."))
    user = SubscriberFactory(phone="+14155550100")
    chat_rule("sms")

    delivery = only_delivery(trigger(django_capture_on_commit_callbacks, to=[user.external_id]))

    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert f"Twilio error {code}: " in delivery.last_error and meaning in delivery.last_error
    assert delivery.error_code == str(code)
    assert stub.requests[0].path == MESSAGES_PATH


@pytest.mark.parametrize("reply", [
    twilio_error(429, 20429, "Too Many Requests"),
    twilio_error(500, 20500, "Internal Server Error"),
    twilio_error(503, 20503, "Service Unavailable"),
])
def test_rate_limits_and_server_errors_are_transient(twilio_stub, reply):
    twilio_stub(reply)
    with pytest.raises(TransientError, match=f"Twilio error {reply.body['code']}"):
        SmsProvider().send(pending_delivery("sms", "+14155550100"))


def test_rejected_credentials_are_retried_and_name_the_settings(twilio_stub):
    # The operator's setting, not the recipient's fault: retried while it is fixed.
    twilio_stub(twilio_error(401, 20003, "Authenticate"))
    with pytest.raises(TransientError, match="refused Clarion's credentials .*"
                                             "check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"):
        SmsProvider().send(pending_delivery("sms", "+14155550100"))


def test_transient_error_is_retried_through_the_pipeline(
        twilio_stub, django_capture_on_commit_callbacks):
    twilio_stub(twilio_error(503, 20503, "Service Unavailable"))
    user = SubscriberFactory(phone="+14155550100")
    chat_rule("sms")

    delivery = only_delivery(trigger(django_capture_on_commit_callbacks, to=[user.external_id]))

    assert delivery.status == DeliveryStatus.QUEUED and delivery.next_attempt_at is not None


def test_unreachable_twilio_is_transient(twilio_stub):
    stub = twilio_stub(Reply(200))
    stub.shutdown()
    stub.server_close()
    with pytest.raises(TransientError, match="could not be reached"):
        SmsProvider().send(pending_delivery("sms", "+14155550100"))


def test_unconfigured_sms_is_skipped_as_not_configured(settings,
                                                       django_capture_on_commit_callbacks):
    settings.TWILIO_ACCOUNT_SID = settings.TWILIO_AUTH_TOKEN = ""
    user = SubscriberFactory(phone="+14155550100")
    chat_rule("sms")

    delivery = only_delivery(trigger(django_capture_on_commit_callbacks, to=[user.external_id]))

    assert (delivery.status, delivery.skip_reason) == ("skipped", "not_configured")


# --- GSM-7 ---------------------------------------------------------------------------------


def test_typographic_lookalikes_become_gsm7():
    text = "\u201cHi\u201d \u2013 it\u2019s 5\u00a0\u20ac\u2026 {ok} [x] \u00e9t\u00e9"
    normalised = gsm7_normalise(text)
    assert normalised == '"Hi" - it\'s 5 \u20ac... {ok} [x] \u00e9t\u00e9'
    assert is_gsm7(normalised) and not is_gsm7(text)


def test_letters_outside_gsm7_are_kept_as_they_are():
    assert gsm7_normalise("Привет \u2014 \U0001f680") == "Привет - \U0001f680"
