"""The long tail of services through Apprise: a target is any Apprise URL.

Each target is its own delivery, so each URL's outcome is recorded on its own
row. The URL (stored encrypted; the delivery holds its reference) is loaded
into a fresh ``Apprise`` object per send, notified with the subject as title
and the text as Markdown body, within ``OUTBOUND_TOTAL_TIMEOUT``.

Limits, because Apprise makes its own network calls: they do not pass through
Clarion's outbound door. Before handing a URL over, the host it names (for
``json://``, ``gotify://``, ``mmost://`` and the other self-hosted kinds) is
resolved and checked against the same address policy, so a private or loopback
host is refused unless ``OUTBOUND_ALLOWED_NETWORKS`` allows it; but Apprise
resolves the name again itself, and may follow redirects, so a hostile DNS
server could still steer it — use Apprise targets for services you trust.

Apprise reports success or failure, not why; its log lines say more. A line
naming an HTTP 4xx answer (other than 429), or a URL Apprise cannot load, is
permanent; anything else that failed is transient.
"""

from __future__ import annotations

import re

from django.conf import settings

from notifications.http import BlockedAddress, InvalidUrl, OutboundError, url_check
from notifications.models import Delivery
from notifications.providers.base import PermanentError, SendResult, TransientError
from notifications.providers.chat_http import HttpChatProvider, target_for
from notifications.providers.chat_text import chat_message

_HTTP_ERROR = re.compile(r"error=(\d{3})")


def _host_check(plugin) -> None:
    """Refuse a URL whose host resolves to an address the outbound policy refuses."""
    host = str(getattr(plugin, "host", "") or "")
    if not host:
        return
    port = getattr(plugin, "port", None) or 80
    shown = f"[{host}]" if ":" in host else host
    try:
        url_check(f"http://{shown}:{port}/")
    except BlockedAddress as exc:
        raise PermanentError(f"Apprise: the target's host is refused ({exc}).") from exc
    except (InvalidUrl, OutboundError):
        # Not a host name (many services keep a token there) or not resolvable here:
        # Apprise talks to its service's own fixed host, or fails and says so.
        return


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
        asset = apprise.AppriseAsset(storage_mode=apprise.PersistentStoreMode.MEMORY)
        plugin = apprise.Apprise.instantiate(url, asset=asset)
        if plugin is None:
            raise PermanentError("Apprise cannot load this URL (unknown service or missing "
                                 "parts); check the target.")
        _host_check(plugin)
        notifier = apprise.Apprise(asset=asset)
        notifier.add(plugin)
        body = f"{message.text}\n\n{message.action_url}" if message.action_url else message.text
        result = notifier.notify(body=body, title=message.title,
                                 body_format=apprise.NotifyFormat.MARKDOWN,
                                 timeout=settings.OUTBOUND_TOTAL_TIMEOUT)
        if result:
            return SendResult()
        raise _failure([entry.message for entry in result.logs()])
