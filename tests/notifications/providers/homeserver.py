"""A small Matrix homeserver stand-in: the Client-Server API v3 calls Clarion makes.

It keeps rooms, aliases, memberships and the account's ``m.direct`` data, checks the
access token like a homeserver does, and implements transaction idempotency: a
``PUT …/send/m.room.message/{txnId}`` repeated with the same txnId (same token) gets
the original ``event_id`` back and adds nothing to the room. Tests can script what
the next sends meet (a 429, a dropped connection after the message was stored).
"""

from __future__ import annotations

import itertools
from urllib.parse import unquote

from tests.notifications.providers.fake_service import DROP, Recorded, Reply

API = "/_matrix/client/v3"


class Homeserver:
    def __init__(self, *, token: str = "syt_clarion_token",  # noqa: S107 — a test token
                 user_id: str = "@clarion:hs.test"):
        self.token = token
        self.user_id = user_id
        self.rooms: dict[str, list[dict]] = {}  # room id → messages (event contents)
        self.aliases: dict[str, str] = {}
        self.joined: set[str] = set()
        self.invited: set[str] = set()
        self.public: set[str] = set()
        self.transactions: dict[tuple[str, str], str] = {}
        self.account_data: dict[str, dict] = {}
        self.created_rooms: list[dict] = []
        # What the next sends meet, in order: a Reply, DROP (stored, then cut) or None (normal).
        self.next_sends: list[Reply | object | None] = []
        self._ids = itertools.count(1)

    def add_room(self, room_id: str, *, alias: str | None = None, joined: bool = True,
                 public: bool = False, invited: bool = False) -> str:
        self.rooms[room_id] = []
        if alias:
            self.aliases[alias] = room_id
        if joined:
            self.joined.add(room_id)
        if public:
            self.public.add(room_id)
        if invited:
            self.invited.add(room_id)
        return room_id

    # --- the HTTP side --------------------------------------------------------------

    def __call__(self, request: Recorded):
        auth = request.headers.get("Authorization", "")
        if not auth:
            return Reply(401, {"errcode": "M_MISSING_TOKEN", "error": "Missing access token"})
        if auth != f"Bearer {self.token}":
            return Reply(401, {"errcode": "M_UNKNOWN_TOKEN",
                               "error": "Unrecognised access token", "soft_logout": False})
        if not request.path.startswith(API + "/"):
            return Reply(404, {"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"})
        parts = [unquote(p) for p in request.path[len(API) + 1:].split("?")[0].split("/")]
        route = (request.method, parts[0])
        if route == ("GET", "directory"):
            return self._directory(parts[2])
        if route == ("POST", "join"):
            return self._join(parts[1])
        if route == ("PUT", "rooms") and parts[2:4] == ["send", "m.room.message"]:
            return self._send(parts[1], parts[4], request.json)
        if route == ("GET", "account") and parts[1] == "whoami":
            return Reply(200, {"user_id": self.user_id, "device_id": "CLARION"})
        if parts[0] == "user" and parts[2:] == ["account_data", "m.direct"]:
            return self._direct(request)
        if route == ("POST", "createRoom"):
            return self._create_room(request.json)
        return Reply(404, {"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"})

    def _directory(self, alias: str) -> Reply:
        if alias not in self.aliases:
            return Reply(404, {"errcode": "M_NOT_FOUND", "error": f"Room alias {alias} not found"})
        return Reply(200, {"room_id": self.aliases[alias], "servers": ["hs.test"]})

    def _join(self, room: str) -> Reply:
        room_id = self.aliases.get(room, room)
        if room_id not in self.rooms:
            return Reply(404, {"errcode": "M_NOT_FOUND", "error": "No known servers"})
        if room_id not in self.public | self.invited | self.joined:
            return Reply(403, {"errcode": "M_FORBIDDEN",
                               "error": "You are not invited to this room."})
        self.joined.add(room_id)
        return Reply(200, {"room_id": room_id})

    def _send(self, room_id: str, txn_id: str, content: dict):
        script = self.next_sends.pop(0) if self.next_sends else None
        if isinstance(script, Reply):
            return script
        if room_id not in self.rooms:
            return Reply(404, {"errcode": "M_NOT_FOUND", "error": "Unknown room"})
        if room_id not in self.joined:
            return Reply(403, {"errcode": "M_FORBIDDEN",
                               "error": f"User {self.user_id} not in room {room_id}"})
        key = (self.token, txn_id)
        if key not in self.transactions:  # a repeated transaction posts nothing new
            self.transactions[key] = f"$event{next(self._ids)}"
            self.rooms[room_id].append(content)
        if script is DROP:
            return DROP  # stored, but the answer never reaches the sender
        return Reply(200, {"event_id": self.transactions[key]})

    def _direct(self, request: Recorded) -> Reply:
        if request.method == "PUT":
            self.account_data["m.direct"] = request.json
            return Reply(200, {})
        if "m.direct" not in self.account_data:
            return Reply(404, {"errcode": "M_NOT_FOUND", "error": "Account data not found"})
        return Reply(200, self.account_data["m.direct"])

    def _create_room(self, body: dict) -> Reply:
        room_id = self.add_room(f"!dm{next(self._ids)}:hs.test")
        self.created_rooms.append(body)
        return Reply(200, {"room_id": room_id})
