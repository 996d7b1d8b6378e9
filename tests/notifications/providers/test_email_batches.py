"""E-mail through an ESP with batch sending: deliveries with the same words are one API call.

Anymail's real Postmark backend talks to a local stand-in for Postmark's API that
answers as Postmark documents (``POST /email/batch`` → one result per message,
``POST /email`` → one result), so what is checked is the exact request Postmark
would get: one message per recipient, each with its own Message-ID and
unsubscribe link.
"""

from __future__ import annotations

import itertools

import pytest

from notifications.models import Delivery, DeliveryStatus
from notifications.services.events import event_ingest
from tests.factories import EmailTemplateFactory, SubscriberFactory
from tests.notifications.providers.fake_service import Reply

pytestmark = pytest.mark.django_db

_ids = itertools.count(1)


def postmark_answer(request):
    """Postmark's documented answers; a recipient ending in ``inactive@…`` is refused (406)."""
    def one(message: dict) -> dict:
        if message["To"].startswith("inactive"):
            return {"ErrorCode": 406, "Message": "You tried to send to a recipient that has been "
                    f"marked as inactive.\nFound inactive addresses: {message['To']}.\nInactive "
                    "recipients are ones that have generated a hard bounce or a spam complaint. "}
        return {"ErrorCode": 0, "Message": "OK", "MessageID": f"pm-{next(_ids)}",
                "SubmittedAt": "2026-12-02T10:00:00Z", "To": message["To"]}

    if request.path == "/email/batch":
        return Reply(200, [one(message) for message in request.json])
    return Reply(200, one(request.json))


@pytest.fixture
def postmark(settings, service):
    server = service(postmark_answer)
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "server-token",
                        "POSTMARK_API_URL": f"{server.url}/"}
    settings.PUBLIC_BASE_URL = "https://clarion.example.com"
    return server


def send_to(capture, template, subscribers):
    with capture(execute=True):
        event, _ = event_ingest(event_type=template.rule.event_type,
                                recipients=[s.external_id for s in subscribers],
                                data={"order_id": "A-1"})
    return {d.address: d for d in Delivery.objects.filter(event=event)}


def test_the_same_words_for_many_go_out_as_one_batch_call(
        postmark, django_capture_on_commit_callbacks):
    template = EmailTemplateFactory(subject="Maintenance tonight", text_body="From 22:00 UTC.",
                                    html_body="<p>From 22:00 UTC.</p>")
    people = [SubscriberFactory() for _ in range(3)] + [SubscriberFactory(
        external_id="inactive-1", email="inactive-1@example.com")]
    deliveries = send_to(django_capture_on_commit_callbacks, template, people)

    [request] = postmark.requests
    assert request.path == "/email/batch"
    assert request.headers["X-Postmark-Server-Token"] == "server-token"
    messages = request.json
    assert sorted(m["To"] for m in messages) == sorted(p.email for p in people)
    assert {m["Subject"] for m in messages} == {"Maintenance tonight"}
    headers = [{h["Name"]: h["Value"] for h in m["Headers"]} for m in messages]
    assert len({h["Message-ID"] for h in headers}) == 4
    assert len({h["List-Unsubscribe"] for h in headers}) == 4  # each recipient's own link
    assert {h["List-Unsubscribe-Post"] for h in headers} == {"List-Unsubscribe=One-Click"}
    for message in messages:
        assert message["Metadata"] == {"clarion_delivery": str(deliveries[message["To"]].pk)}

    sent = [d for address, d in deliveries.items() if not address.startswith("inactive")]
    for delivery in sent:
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.SENT
        assert delivery.provider_message_id.startswith("pm-")
    assert len({d.provider_message_id for d in sent}) == 3
    refused = deliveries["inactive-1@example.com"]
    refused.refresh_from_db()
    assert refused.status == DeliveryStatus.FAILED and "rejected" in refused.last_error


def test_personal_words_are_sent_one_message_each(postmark, django_capture_on_commit_callbacks):
    template = EmailTemplateFactory()  # greets each subscriber by name
    people = [SubscriberFactory(first_name=name) for name in ("Ada", "Grace")]
    deliveries = send_to(django_capture_on_commit_callbacks, template, people)

    assert [r.path for r in postmark.requests] == ["/email", "/email"]
    assert {r.json["TextBody"].split(",")[0] for r in postmark.requests} == {"Hello Ada",
                                                                             "Hello Grace"}
    for delivery in deliveries.values():
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.SENT


def test_one_address_twice_in_a_batch_is_two_messages(
        postmark, django_capture_on_commit_callbacks):
    template = EmailTemplateFactory(subject="News", text_body="Same for all.", html_body="")
    twins = [SubscriberFactory(email="shared@example.com") for _ in range(2)]
    send_to(django_capture_on_commit_callbacks, template, [*twins, SubscriberFactory()])

    sent_to = sorted(m["To"] for r in postmark.requests
                     for m in (r.json if isinstance(r.json, list) else [r.json]))
    assert sent_to.count("shared@example.com") == 2 and len(sent_to) == 3
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}


def test_a_rejected_login_is_the_operators_to_fix_and_is_retried():
    import smtplib

    from notifications.providers import TransientError
    from notifications.providers.email import _classified

    outcome = _classified(smtplib.SMTPAuthenticationError(535, b"5.7.8 Error: authentication "
                                                               b"failed"))
    assert isinstance(outcome, TransientError)
    assert str(outcome) == ("The SMTP server rejected the login (535 5.7.8 Error: authentication "
                            "failed); check the user and password in EMAIL_URL.")


def test_server_words_are_text_not_a_bytes_repr():
    import smtplib

    from notifications.providers.email import _classified

    refused = _classified(smtplib.SMTPRecipientsRefused({"a@b.c": (550, b"5.1.1 No such user")}))
    other = _classified(smtplib.SMTPDataError(554, b"5.7.1 Rejected"))
    assert str(refused) == "The mail server refused the recipient (a@b.c: 550 5.1.1 No such user)."
    assert str(other) == "SMTP 554: 5.7.1 Rejected"
