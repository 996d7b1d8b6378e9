"""Slack through incoming webhooks: ``POST <hook url>`` with ``text`` and, when useful, blocks.

The target is the webhook URL (stored encrypted; the delivery holds its
reference). ``text`` is always sent — Slack uses it for notifications and as
the fallback of the blocks; blocks add the subject as a header and a button
to the action URL. Slack answers 200 ``ok``; its documented errors are plain
strings (``invalid_payload``, ``action_prohibited``, ``channel_not_found``,
``channel_is_archived``, …) and all mean the message can never go through as
configured, so they are permanent; 429 and 5xx are transient.
"""

from __future__ import annotations

from notifications.models import Delivery
from notifications.providers.base import SendResult
from notifications.providers.chat_http import HttpChatProvider, call, excerpt, raise_for_status, target_for
from notifications.providers.chat_text import ChatMessage, chat_message, truncate

# Slack's limits: 40,000 characters of text, 3,000 per section, 150 per header.
_TEXT_MAX, _SECTION_MAX, _HEADER_MAX = 40_000, 3_000, 150
_ERRORS = {
    "invalid_payload": "the message was malformed",
    "invalid_blocks": "the message blocks were rejected",
    "no_text": "the message had no text",
    "action_prohibited": "an admin has restricted posting to this channel",
    "invalid_token": "the webhook is no longer valid",
    "no_service": "the webhook was disabled or removed",
    "channel_not_found": "the webhook's channel does not exist",
    "channel_is_archived": "the webhook's channel is archived",
    "posting_to_general_channel_denied": "only admins may post to this channel",
}


def _escape(text: str) -> str:
    """Slack's mrkdwn control characters; everything else is sent as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(message: ChatMessage) -> dict:
    text = _escape(message.text)
    payload: dict = {"text": truncate(f"*{_escape(message.title)}*\n{text}" if message.title
                                      else text, _TEXT_MAX)}
    if not (message.title or message.action_url):
        return payload
    blocks: list[dict] = []
    if message.title:
        blocks.append({"type": "header", "text": {"type": "plain_text",
                                                   "text": truncate(message.title, _HEADER_MAX)}})
    blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                               "text": truncate(text, _SECTION_MAX)}})
    if message.action_url:
        blocks.append({"type": "actions", "elements": [{
            "type": "button", "text": {"type": "plain_text", "text": "Open"},
            "url": message.action_url}]})
    payload["blocks"] = blocks
    return payload


class SlackProvider(HttpChatProvider):
    channel = "slack"

    def send(self, delivery: Delivery) -> SendResult:
        url = target_for(delivery, channel=self.channel)
        payload = slack_payload(chat_message(delivery.rendered, channel=self.channel))
        response = call("POST", url, service="Slack", json_body=payload)
        code = excerpt(response)
        meaning = _ERRORS.get(code)
        raise_for_status(response, service="Slack",
                         detail=f"{code} ({meaning})" if meaning else code)
        return SendResult()
