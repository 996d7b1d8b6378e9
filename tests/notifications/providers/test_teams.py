"""Microsoft Teams Workflows webhooks: the Adaptive Card envelope and the error answers."""

from __future__ import annotations

import pytest

from notifications.models import DeliveryStatus
from notifications.providers import PermanentError, TransientError
from notifications.providers.teams import TeamsProvider
from tests.notifications.providers.factories import (
    chat_rule,
    only_delivery,
    pending_delivery,
    trigger,
)
from tests.notifications.providers.fake_service import Reply, scripted

pytestmark = pytest.mark.django_db

FLOW_PATH = ("/workflows/3c1e/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers"
             "%2Fmanual%2Frun&sv=1.0&sig=Zx9SecretSignature")


def test_card_has_title_text_and_a_button_to_the_action_url(
        service, allow_loopback, django_capture_on_commit_callbacks):
    teams = service(scripted(Reply(202, b"")))
    chat_rule("teams")

    event = trigger(django_capture_on_commit_callbacks, to=[{"teams": teams.url + FLOW_PATH}])

    [request] = teams.requests
    assert (request.method, request.path) == ("POST", FLOW_PATH)
    assert request.headers["Content-Type"] == "application/json"
    assert request.json == {"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive",
        "content": {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard", "version": "1.2",
            "body": [
                {"type": "TextBlock", "text": "Order A-17 shipped", "weight": "Bolder",
                 "size": "Medium", "wrap": True},
                {"type": "TextBlock", "text": "Order **A-17** is on its way.", "wrap": True},
            ],
            "actions": [{"type": "Action.OpenUrl", "title": "Open",
                         "url": "https://shop.example.com/orders/A-17"}],
        }}]}
    delivery = only_delivery(event)
    assert delivery.status == DeliveryStatus.SENT
    assert "Zx9Secret" not in delivery.address


def test_card_without_action_url_has_no_actions(service, allow_loopback):
    teams = service(scripted(Reply(200, b"")))

    TeamsProvider().send(pending_delivery("teams", teams.url + FLOW_PATH,
                                          {"short_body": "Backup done"}))

    content = teams.requests[0].json["attachments"][0]["content"]
    assert "actions" not in content
    assert content["body"] == [{"type": "TextBlock", "text": "Backup done", "wrap": True}]


@pytest.mark.parametrize("status, hint", [
    (400, "rejected the card"), (401, "signature is not valid"),
    (403, "signature is not valid"), (404, "does not exist or is turned off")])
def test_client_errors_are_permanent_and_explained(service, allow_loopback, status, hint):
    body = {"error": {"code": "TriggerInputSchemaMismatch", "message": "The input is invalid."}}
    teams = service(scripted(Reply(status, body)))

    with pytest.raises(PermanentError) as failure:
        TeamsProvider().send(pending_delivery("teams", teams.url + FLOW_PATH))

    assert hint in str(failure.value) and f"({status})" in str(failure.value)
    assert "Zx9Secret" not in str(failure.value)


def test_throttling_is_transient_with_retry_after(service, allow_loopback):
    teams = service(scripted(Reply(429, {"error": {"code": "WorkflowTriggerIsThrottled"}},
                                   {"Retry-After": "7"})))
    with pytest.raises(TransientError) as failure:
        TeamsProvider().send(pending_delivery("teams", teams.url + FLOW_PATH))
    assert failure.value.retry_after == 7.0


def test_server_error_is_transient(service, allow_loopback):
    teams = service(scripted(Reply(500, {"error": {"message": "oops"}})))
    with pytest.raises(TransientError, match="500"):
        TeamsProvider().send(pending_delivery("teams", teams.url + FLOW_PATH))
