"""The long tail of services through Apprise: a target is any Apprise URL.

Each target is its own delivery, so each URL's outcome is recorded on its own
row. The URL (stored encrypted; the delivery holds its reference) is loaded
into a fresh ``Apprise`` object per send, notified with the subject as title
and the text as Markdown body, within ``OUTBOUND_TOTAL_TIMEOUT``.

Apprise makes its own network calls, so they cannot pass through Clarion's outbound door;
instead every socket the send opens — to the service's host, an ``smtp=`` server, an IPv6
literal, a redirect's destination — is checked against the same address policy at the
moment it connects (``notifications.http.socket_guard``). A refused connection fails the
delivery permanently and names the address; Apprise's own redirect following is off.
Apprise URLs are entered by staff only (the admin, configuration files): the API refuses
them, because some plugins also read local files named in the URL (key files).

Apprise reports success or failure, not why; its log lines say more. A line
naming an HTTP 4xx answer (other than 429), or a URL Apprise cannot load, is
permanent; anything else that failed is transient.
"""

from __future__ import annotations

import re

from django.conf import settings

from notifications.http.socket_guard import RefusedConnection, sockets_guarded
from notifications.models import Delivery
from notifications.providers.base import PermanentError, SendResult, TransientError
from notifications.providers.chat_http import HttpChatProvider, target_for
from notifications.providers.chat_text import chat_message

_HTTP_ERROR = re.compile(r"error=(\d{3})")


def _failure(logs: list[str]) -> TransientError | PermanentError:
    said = " ".join(logs)[-500:] or "Apprise reported a failure without details."
    codes = [int(code) for code in _HTTP_ERROR.findall(said)]
    if codes and all(400 <= code < 500 and code != 429 for code in codes):
        return PermanentError(f"Apprise: {said}")
    return TransientError(f"Apprise: {said}")


class AppriseProvider(HttpChatProvider):
    channel = "apprise"
    # An Apprise URL may name any of a hundred services, some of them not HTTP and not
    # known to be safe from several threads: one after another.
    sends_concurrently = False

    def send(self, delivery: Delivery) -> SendResult:
        import apprise  # loads every plugin; only paid for when this channel is used

        url = target_for(delivery, channel=self.channel)
        message = chat_message(delivery.rendered, channel=self.channel)
        # In the calling thread (the guard follows it), and no redirects followed.
        asset = apprise.AppriseAsset(storage_mode=apprise.PersistentStoreMode.MEMORY,
                                     async_mode=False, http_redirects=False)
        plugin = apprise.Apprise.instantiate(url, asset=asset)
        if plugin is None:
            raise PermanentError("Apprise cannot load this URL (unknown service or missing "
                                 "parts); check the target.")
        notifier = apprise.Apprise(asset=asset)
        notifier.add(plugin)
        body = f"{message.text}\n\n{message.action_url}" if message.action_url else message.text
        with sockets_guarded() as guard:
            try:
                result = notifier.notify(body=body, title=message.title,
                                         body_format=apprise.NotifyFormat.MARKDOWN,
                                         timeout=settings.OUTBOUND_TOTAL_TIMEOUT)
            except RefusedConnection:
                result = None
        if guard.refusals:
            raise PermanentError(f"Apprise: {guard.refusals[0]}.")
        if result:
            return SendResult()
        raise _failure([entry.message for entry in result.logs()] if result is not None else [])
