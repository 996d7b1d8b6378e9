"""Slack incoming webhooks: exact payloads, and Slack's documented error answers."""

from __future__ import annotations

import pytest

from notifications.models import DeliveryStatus
from notifications.providers import PermanentError, TransientError
from notifications.providers.slack import SlackProvider
from tests.notifications.providers.factories import (
    chat_rule,
    only_delivery,
    pending_delivery,
    trigger,
)
from tests.notifications.providers.fake_service import Reply, scripted

pytestmark = pytest.mark.django_db

HOOK_PATH = "/services/T0001/B0002/aBcDeFgHiJkLmNoPqRsTuVwX"


def ok() -> Reply:
    return Reply(200, b"ok", {"Content-Type": "text/html"})


def test_message_with_title_and_action_sends_text_and_blocks(
        service, allow_loopback, django_capture_on_commit_callbacks):
    slack = service(scripted(ok()))
    chat_rule("slack", short_body="Order <{{ data.order_id }}> & co")

    event = trigger(django_capture_on_commit_callbacks, to=[{"slack": slack.url + HOOK_PATH}])

    [request] = slack.requests
    assert (request.method, request.path) == ("POST", HOOK_PATH)
    assert request.headers["Content-Type"] == "application/json"
    assert request.json == {
        "text": "*Order A-17 shipped*\nOrder &lt;A-17&gt; &amp; co",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Order A-17 shipped"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "Order &lt;A-17&gt; &amp; co"}},
            {"type": "actions", "elements": [{
                "type": "button", "text": {"type": "plain_text", "text": "Open"},
                "url": "https://shop.example.com/orders/A-17"}]},
        ],
    }
    delivery = only_delivery(event)
    assert delivery.status == DeliveryStatus.SENT
    assert "aBcDeFgH" not in delivery.address and delivery.address.endswith("]")


def test_plain_message_sends_text_only(service, allow_loopback):
    slack = service(scripted(ok()))

    SlackProvider().send(pending_delivery("slack", slack.url + HOOK_PATH,
                                          {"short_body": "Backup done"}))

    assert slack.requests[0].json == {"text": "Backup done"}


@pytest.mark.parametrize("status, code", [(400, "invalid_payload"), (403, "action_prohibited"),
                                          (404, "channel_not_found"), (410, "channel_is_archived"),
                                          (400, "no_text")])
def test_documented_errors_are_permanent_with_slacks_code(service, allow_loopback, status, code):
    slack = service(scripted(Reply(status, code)))

    with pytest.raises(PermanentError) as failure:
        SlackProvider().send(pending_delivery("slack", slack.url + HOOK_PATH))

    assert f"({status}): {code} (" in str(failure.value)
    assert "aBcDeFgH" not in str(failure.value)


def test_rate_limit_is_transient_and_honours_retry_after(service, allow_loopback):
    slack = service(scripted(Reply(429, "rate_limited", {"Retry-After": "12"})))

    with pytest.raises(TransientError) as failure:
        SlackProvider().send(pending_delivery("slack", slack.url + HOOK_PATH))

    assert failure.value.retry_after == 12.0


def test_server_error_is_transient(service, allow_loopback):
    slack = service(scripted(Reply(503, "service_unavailable")))
    with pytest.raises(TransientError, match="503"):
        SlackProvider().send(pending_delivery("slack", slack.url + HOOK_PATH))


def test_redirect_is_not_followed_and_is_permanent(service, allow_loopback):
    slack = service(scripted(Reply(302, b"", {"Location": "http://127.0.0.1:1/elsewhere"})))
    with pytest.raises(PermanentError, match="redirect"):
        SlackProvider().send(pending_delivery("slack", slack.url + HOOK_PATH))
    assert len(slack.requests) == 1


def test_private_address_is_refused_without_an_allowlist(service, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    slack = service(scripted(ok()))

    with pytest.raises(PermanentError, match="cannot be used .*loopback"):
        SlackProvider().send(pending_delivery("slack", slack.url + HOOK_PATH))

    assert slack.requests == []
