"""How the inbox's authentication and its preferences body appear in the OpenAPI schema."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class InboxTokenScheme(OpenApiAuthenticationExtension):
    target_class = "inbox.auth.InboxTokenAuthentication"
    name = "inboxToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "An inbox token minted with POST /api/subscribers/{id}/inbox-token."}


class InboxSessionScheme(OpenApiAuthenticationExtension):
    target_class = "inbox.auth.InboxSessionAuthentication"
    name = "inboxSession"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid",
                "description": "A logged-in user linked to a subscriber (send X-CSRFToken on writes)."}


_HH_MM = {"type": "string", "nullable": True, "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}
_QUIET_HOURS = {
    "type": "object", "additionalProperties": False,
    "description": "Hold non-critical messages between start and end, in the time zone.",
    "properties": {
        "enabled": {"type": "boolean"},
        "start": {**_HH_MM, "example": "22:00", "description": "HH:MM; null turns quiet hours off."},
        "end": {**_HH_MM, "example": "07:00"},
        "timezone": {"type": "string", "example": "Europe/Berlin",
                     "description": "An IANA time zone name."},
    },
}
_SWITCHES = {"type": "object", "additionalProperties": {"type": "boolean"},
             "example": {"email": True, "sms": False},
             "description": "Channel → on; channels left out keep their setting."}
_CATEGORY = {
    "type": "object",
    "properties": {
        "key": {"type": "string", "example": "orders"},
        "name": {"type": "string"}, "description": {"type": "string"},
        "critical": {"type": "boolean"},
        "locked": {"type": "boolean", "description": "Critical categories cannot be muted."},
        "channels": _SWITCHES,
    },
}
PREFERENCES = {
    "type": "object",
    "properties": {
        "channels": {"type": "array", "items": {"type": "string"},
                     "description": "The channels worth a switch on this server."},
        "categories": {"type": "array", "items": _CATEGORY},
        "quiet_hours": _QUIET_HOURS,
    },
}
PREFERENCES_UPDATE = {
    "type": "object", "additionalProperties": False,
    "description": "All or nothing. What GET answered may be sent back as it is, edited.",
    "properties": {
        "categories": {"oneOf": [
            {"type": "object", "additionalProperties": _SWITCHES,
             "example": {"orders": {"email": False}},
             "description": "Category key → channel switches."},
            {"type": "array", "items": {**_CATEGORY, "required": ["key", "channels"]},
             "description": "The list GET answers with."},
        ]},
        "quiet_hours": _QUIET_HOURS,
        "channels": {"type": "array", "items": {"type": "string"},
                     "description": "Read-only; ignored when sent back."},
    },
}
