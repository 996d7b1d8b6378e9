"""Mattermost, as a bot (API v4) or through an incoming webhook, chosen by the target.

* A channel id is posted by the bot: ``POST {MATTERMOST_URL}/api/v4/posts``
  with ``Authorization: Bearer {MATTERMOST_BOT_TOKEN}`` and ``{"channel_id", "message",
  "props"}``; the server answers 201 with the post, whose id is kept. The bot must
  be a member of the channel. Each post carries the delivery's id (in ``props``
  and as ``pending_post_id``, which Mattermost uses to drop a quick repeat); before
  a retry the channel's posts since the delivery was created are read, and a post
  already carrying this delivery's id counts as sent — so a retry after a lost
  answer does not post twice.
* A webhook URL (stored encrypted) gets ``POST <hook> {"text"}`` and answers 200 ``ok``.

The message is Markdown: the subject as a heading, the text, and a link to the
action URL. 400/401/403/404/413 are permanent (with the server's own message,
``{"id", "message", "status_code"}``) — except the bot token's 401, the operator's
setting, retried with backoff while it is fixed — 429 waits for ``Retry-After`` or
``X-Ratelimit-Reset``, 5xx is transient. The Mattermost server is configured by
the operator and may be on a private network; webhook URLs are entered by staff
and go through the address policy like any user-supplied URL.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

from notifications.models import Delivery
from notifications.providers.base import (
    NotConfigured,
    PermanentError,
    SendResult,
    TransientError,
)
from notifications.providers.chat_http import HttpChatProvider, body_json, call, raise_for_status, target_for
from notifications.providers.chat_text import ChatMessage, chat_message, truncate

# Mattermost refuses posts over 16,383 characters (webhooks split them instead).
_POST_MAX = 16_383
# How far before the delivery's creation a retry looks for its own earlier post.
_LOOKBACK_MS = 60_000
_BOT = "Mattermost"  # how messages name the bot API (webhooks are "Mattermost webhook")
_HINTS = {
    401: "the bot token was rejected; check MATTERMOST_BOT_TOKEN",
    403: "the bot may not post here; add it to the channel",
    404: "the channel or webhook does not exist",
}


def mattermost_markdown(message: ChatMessage) -> str:
    parts = [f"#### {message.title}"] if message.title else []
    parts.append(message.text)
    if message.action_url:
        parts.append(f"[Open]({message.action_url})")
    return truncate("\n\n".join(parts), _POST_MAX)


class MattermostProvider(HttpChatProvider):
    channel = "mattermost"

    def configuration_problem(self) -> str:
        """Empty when bot mode can be used; webhook targets work either way."""
        if settings.MATTERMOST_URL and settings.MATTERMOST_BOT_TOKEN:
            return ""
        return ("Incoming-webhook targets work; channel ids (bot mode) also need "
                "MATTERMOST_URL and MATTERMOST_BOT_TOKEN.")

    def host_of(self, delivery: Delivery) -> str:
        # Channel ids are posted to the bot's server; webhook URLs to their own host.
        return super().host_of(delivery) or urlsplit(settings.MATTERMOST_URL).hostname or ""

    def send(self, delivery: Delivery) -> SendResult:
        target = target_for(delivery, channel=self.channel)
        text = mattermost_markdown(chat_message(delivery.rendered, channel=self.channel))
        if target.lower().startswith(("http://", "https://")):
            return self._send_webhook(target, text)
        return self._send_post(delivery, target, text)

    def _send_webhook(self, url: str, text: str) -> SendResult:
        response = call("POST", url, service="Mattermost webhook", json_body={"text": text})
        self._raise(response, service="Mattermost webhook")
        return SendResult()

    def _send_post(self, delivery: Delivery, channel_id: str, text: str) -> SendResult:
        if self.configuration_problem():
            raise NotConfigured(f"Mattermost channel {channel_id} needs bot mode, which is not "
                                 "configured on this server: set MATTERMOST_URL and "
                                 "MATTERMOST_BOT_TOKEN, or use an incoming-webhook URL.")
        if delivery.attempts > 1 and (posted := self._already_posted(delivery, channel_id)):
            return SendResult(provider_message_id=posted)
        payload = {"channel_id": channel_id, "message": text,
                   "props": {"clarion_delivery": str(delivery.pk)},
                   "pending_post_id": f"clarion-{delivery.pk.hex}"}
        response = call("POST", f"{settings.MATTERMOST_URL}/api/v4/posts", service=_BOT,
                        json_body=payload, trusted=True,
                        headers={"Authorization": f"Bearer {settings.MATTERMOST_BOT_TOKEN}"})
        self._raise(response, service=_BOT)
        return SendResult(provider_message_id=str(body_json(response).get("id", "")))

    def _already_posted(self, delivery: Delivery, channel_id: str) -> str:
        """The id of a post in the channel that already carries this delivery, or ''.

        Best effort: when the lookup itself fails, the retry simply posts.
        """
        since = int(delivery.created_at.timestamp() * 1000) - _LOOKBACK_MS
        try:
            response = call("GET", f"{settings.MATTERMOST_URL}/api/v4/channels/{channel_id}"
                                   f"/posts?since={since}", service=_BOT, trusted=True,
                            headers={"Authorization": f"Bearer {settings.MATTERMOST_BOT_TOKEN}"})
        except (PermanentError, TransientError):
            return ""
        posts = body_json(response).get("posts") if response.status == 200 else None
        for post_id, post in (posts or {}).items():
            props = post.get("props") if isinstance(post, dict) else None
            if isinstance(props, dict) and props.get("clarion_delivery") == str(delivery.pk):
                return str(post_id)
        return ""

    def _raise(self, response, *, service: str) -> None:
        if response.status == 429 and not response.header("retry-after"):
            reset = (response.header("x-ratelimit-reset") or "").strip()
            raise TransientError(f"{service} is rate limiting (429).",
                                 retry_after=float(reset) if reset.isdigit() else None)
        message = body_json(response).get("message")
        hint = _HINTS.get(response.status)
        detail = "; ".join(str(part) for part in (hint, message) if part)
        if response.status == 401 and service == _BOT:
            # The bot token is the operator's setting: retried while it is fixed.
            raise TransientError(f"{service} refused Clarion's bot token (401): {detail}")
        raise_for_status(response, service=service, detail=detail)
