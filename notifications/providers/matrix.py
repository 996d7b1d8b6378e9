"""Matrix (Client-Server API v3): post into a room as the account of ``MATRIX_ACCESS_TOKEN``.

``PUT {MATRIX_HOMESERVER}/_matrix/client/v3/rooms/{roomId}/send/m.room.message/{txnId}``
with a plain ``body`` and a sanitised HTML ``formatted_body``, as ``m.notice`` unless
``MATRIX_MSGTYPE`` says ``m.text``. The txnId is derived from the delivery id, so
every attempt of one delivery is the same transaction and the homeserver answers a
retry with the original ``event_id`` instead of posting again.

A target is a room id (``!…``, opaque, always URL-encoded), an alias (``#room:server``,
resolved through the room directory and cached for ``MATRIX_ALIAS_CACHE_SECONDS``) or
a user id (``@ana:server``: the direct-message room recorded in the account's
``m.direct`` data, created and recorded on first use). When the homeserver answers 403
because the account is not in the room and ``MATRIX_AUTO_JOIN`` is on, the account
joins (accepting an invitation) and the same transaction is sent again.

403 is permanent, with a message a staff member can act on; 401
(``M_MISSING_TOKEN`` / ``M_UNKNOWN_TOKEN``) is the operator's token, retried with
backoff while it is fixed; 429 ``M_LIMIT_EXCEEDED`` waits for ``Retry-After`` or
``retry_after_ms``; 5xx and network failures are transient. The homeserver is set by
the operator and may be on a private network, so calls to it skip the address policy.
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.cache import cache
from django.utils.html import escape

from notifications.http import OutboundResponse
from notifications.models import Delivery
from notifications.providers.base import (
    PermanentError,
    ProviderError,
    SendResult,
    TransientError,
)
from notifications.providers.chat_http import HttpChatProvider, body_json, call, excerpt, retry_after
from notifications.providers.chat_text import ChatMessage, chat_message, sanitise_html, truncate

_API = "/_matrix/client/v3"
# Events are capped at 64 KiB; the text is both in body and formatted_body.
_TEXT_MAX = 24_000
_DM_LOCK_SECONDS = 60


def _path_part(value: str) -> str:
    return quote(value, safe="")


def matrix_content(message: ChatMessage) -> dict:
    plain = [message.title] if message.title else []
    plain += [truncate(message.text, _TEXT_MAX)]
    html = [f"<p><strong>{escape(message.title)}</strong></p>"] if message.title else []
    html += [message.html if len(message.html) <= _TEXT_MAX * 2 else
             f"<p>{escape(truncate(message.text, _TEXT_MAX))}</p>"]
    if message.action_url:
        plain.append(message.action_url)
        html.append(f'<p><a href="{escape(message.action_url)}">Open</a></p>')
    return {"msgtype": settings.MATRIX_MSGTYPE, "body": "\n\n".join(plain),
            "format": "org.matrix.custom.html", "formatted_body": sanitise_html("".join(html))}


def _cache_key(kind: str, value: str) -> str:
    digest = hashlib.sha256(f"{settings.MATRIX_HOMESERVER}\x00{value}".encode()).hexdigest()
    return f"clarion:matrix:{kind}:{digest[:32]}"


class MatrixProvider(HttpChatProvider):
    channel = "matrix"

    def is_configured(self) -> bool:
        return not self.configuration_problem()

    def configuration_problem(self) -> str:
        missing = [name for name in ("MATRIX_HOMESERVER", "MATRIX_ACCESS_TOKEN")
                   if not getattr(settings, name)]
        return f"Set {' and '.join(missing)}." if missing else ""

    # --- the homeserver --------------------------------------------------------------

    def _call(self, method: str, path: str, json_body: object = None) -> OutboundResponse:
        return call(method, f"{settings.MATRIX_HOMESERVER}{_API}{path}", service="Matrix",
                    json_body=json_body, trusted=True,
                    headers={"Authorization": f"Bearer {settings.MATRIX_ACCESS_TOKEN}"})

    def _raise(self, response: OutboundResponse, *, doing: str) -> None:
        """Turn a non-2xx answer into the contract's error, worded for staff."""
        status = response.status
        if 200 <= status < 300:
            return
        data = body_json(response)
        code = data.get("errcode") or f"HTTP {status}"
        said = data.get("error") or excerpt(response)
        if status == 429 or code == "M_LIMIT_EXCEEDED":
            wait = retry_after(response)
            if wait is None and isinstance(data.get("retry_after_ms"), int | float):
                wait = data["retry_after_ms"] / 1000
            raise TransientError(f"Matrix is rate limiting ({code}) {doing}.", retry_after=wait)
        if status == 401:  # the operator's setting: retried while it is fixed
            raise TransientError(f"The Matrix homeserver rejected the access token ({code}: "
                                 f"{said}) {doing}; set a valid MATRIX_ACCESS_TOKEN.")
        if status == 403:
            fix = "invite the account to the room" + (
                "" if settings.MATRIX_AUTO_JOIN else " and enable MATRIX_AUTO_JOIN")
            raise PermanentError(f"The Matrix account is not allowed in the room ({code}: {said}) "
                                 f"{doing}; {fix}.")
        if status >= 500:
            raise TransientError(f"The Matrix homeserver failed ({status} {code}: {said}) {doing}.",
                                 retry_after=retry_after(response))
        raise PermanentError(f"The Matrix homeserver refused ({status} {code}: {said}) {doing}.")

    # --- where to post ---------------------------------------------------------------

    def _resolve_alias(self, alias: str) -> str:
        key = _cache_key("alias", alias)
        room_id = cache.get(key)
        if room_id:
            return room_id
        response = self._call("GET", f"/directory/room/{_path_part(alias)}")
        if response.status == 404:
            raise PermanentError(f"The Matrix room alias {alias} does not exist "
                                 f"({body_json(response).get('errcode', 'M_NOT_FOUND')}).")
        self._raise(response, doing=f"resolving {alias}")
        room_id = body_json(response).get("room_id")
        if not isinstance(room_id, str) or not room_id.startswith("!"):
            raise TransientError(f"The Matrix homeserver gave no room id for {alias}.")
        if settings.MATRIX_ALIAS_CACHE_SECONDS:
            cache.set(key, room_id, settings.MATRIX_ALIAS_CACHE_SECONDS)
        return room_id

    def _direct_room(self, user_id: str) -> str:
        """The DM room with ``user_id`` from the account's ``m.direct`` data, or a new one."""
        key = _cache_key("direct", user_id)
        if room_id := cache.get(key):
            return room_id
        me = body_json(self._checked("GET", "/account/whoami", doing="identifying the account")
                       ).get("user_id", "")
        data_path = f"/user/{_path_part(me)}/account_data/m.direct"
        response = self._call("GET", data_path)
        if response.status != 404:
            self._raise(response, doing="reading m.direct")
        direct = body_json(response) if response.status != 404 else {}
        rooms = direct.get(user_id) or []
        if rooms and isinstance(rooms[0], str):
            room_id = rooms[0]
        else:
            # Two first messages at once must not open two rooms for one person.
            lock = _cache_key("direct-lock", user_id)
            if not cache.add(lock, 1, _DM_LOCK_SECONDS):
                raise TransientError(f"A direct-message room with {user_id} is being created.",
                                     retry_after=5)
            try:
                created = self._checked("POST", "/createRoom", {
                    "is_direct": True, "invite": [user_id], "preset": "trusted_private_chat"},
                    doing=f"opening a direct-message room with {user_id}")
                room_id = body_json(created).get("room_id", "")
                if not room_id:
                    raise TransientError("The Matrix homeserver created a room without an id.")
                direct[user_id] = [room_id, *rooms]
                self._checked("PUT", data_path, direct, doing="recording the room in m.direct")
                cache.set(key, room_id, None)
            finally:
                cache.delete(lock)
        cache.set(key, room_id, None)
        return room_id

    def _checked(self, method: str, path: str, json_body: object = None, *,
                 doing: str) -> OutboundResponse:
        response = self._call(method, path, json_body)
        self._raise(response, doing=doing)
        return response

    def room_for(self, address: str) -> str:
        if address.startswith("#"):
            return self._resolve_alias(address)
        if address.startswith("@"):
            return self._direct_room(address)
        return address

    # --- sending ---------------------------------------------------------------------

    @staticmethod
    def txn_id(delivery: Delivery) -> str:
        """One transaction per delivery: every retry reuses it."""
        return f"clarion.{delivery.pk.hex}"

    def host_of(self, delivery: Delivery) -> str:
        return urlsplit(settings.MATRIX_HOMESERVER).hostname or ""

    def batch_prepare(self, deliveries: list[Delivery]) -> dict[object, ProviderError]:
        """Resolve each alias and direct-message room once, before the parallel sends: opening
        a DM room rewrites the account's ``m.direct`` list, which must not happen twice at once."""
        failures: dict[object, ProviderError] = {}
        rooms: dict[str, str | ProviderError] = {}
        for delivery in deliveries:
            address = delivery.address
            if address not in rooms:
                try:
                    rooms[address] = self.room_for(address)
                except ProviderError as exc:
                    rooms[address] = exc
            if isinstance(rooms[address], ProviderError):
                failures[delivery.pk] = rooms[address]
        return failures

    def send(self, delivery: Delivery) -> SendResult:
        content = matrix_content(chat_message(delivery.rendered, channel=self.channel))
        room_id = self.room_for(delivery.address)
        path = (f"/rooms/{_path_part(room_id)}/send/m.room.message/"
                f"{_path_part(self.txn_id(delivery))}")
        response = self._call("PUT", path, content)
        if response.status == 403 and settings.MATRIX_AUTO_JOIN:
            # Join by alias when there is one: the homeserver then knows where the room lives.
            join = room_id if delivery.address.startswith("@") else delivery.address
            joined = self._call("POST", f"/join/{_path_part(join)}", {})
            self._raise(joined, doing=f"joining {delivery.address}")
            response = self._call("PUT", path, content)
        if response.status in (403, 404) and delivery.address.startswith(("#", "@")):
            # The alias may have moved, or the DM room been left: look it up afresh next time.
            cache.delete(_cache_key("alias" if delivery.address[0] == "#" else "direct",
                                    delivery.address))
        self._raise(response, doing=f"posting to {delivery.address}")
        event_id = body_json(response).get("event_id", "")
        return SendResult(provider_message_id=str(event_id))
