"""Microsoft Teams through a Workflows webhook: an Adaptive Card in a ``message`` envelope.

The target is the workflow's HTTP trigger URL (stored encrypted, with its
``sig`` credential). The card carries the subject as a bold title, the text
as a wrapping block and, when the template has an action URL, an
``Action.OpenUrl`` button. Workflows answer 202 Accepted (some tenants 200);
400 (malformed card), 401/403 (a wrong or expired signature) and 404 (the
flow was deleted or turned off) are permanent, 429 and 5xx transient.
"""

from __future__ import annotations

from notifications.models import Delivery
from notifications.providers.base import SendResult
from notifications.providers.chat_http import (
    HttpChatProvider,
    body_json,
    call,
    excerpt,
    raise_for_status,
    target_for,
)
from notifications.providers.chat_text import ChatMessage, chat_message, truncate

# Power Automate refuses requests over 100 KB; cards stay well below that.
_TEXT_MAX = 20_000
_HINTS = {
    400: "the workflow rejected the card",
    401: "the workflow URL's signature is not valid",
    403: "the workflow URL's signature is not valid or the flow may not be triggered",
    404: "the workflow does not exist or is turned off",
}


def teams_payload(message: ChatMessage) -> dict:
    body: list[dict] = []
    if message.title:
        body.append({"type": "TextBlock", "text": message.title, "weight": "Bolder",
                     "size": "Medium", "wrap": True})
    body.append({"type": "TextBlock", "text": truncate(message.text, _TEXT_MAX), "wrap": True})
    card: dict = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                  "type": "AdaptiveCard", "version": "1.2", "body": body}
    if message.action_url:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open", "url": message.action_url}]
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}]}


class TeamsProvider(HttpChatProvider):
    channel = "teams"

    def send(self, delivery: Delivery) -> SendResult:
        url = target_for(delivery, channel=self.channel)
        payload = teams_payload(chat_message(delivery.rendered, channel=self.channel))
        response = call("POST", url, service="Teams", json_body=payload)
        error = body_json(response).get("error")
        detail = (error.get("message") or error.get("code")) if isinstance(error, dict) else None
        hint = _HINTS.get(response.status)
        detail = detail or excerpt(response)
        raise_for_status(response, service="Teams", detail=f"{hint}: {detail}" if hint else detail)
        return SendResult()
