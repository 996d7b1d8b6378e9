"""How the inbox's authentication and free-form bodies appear in the OpenAPI schema."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiTypes


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


FREE_FORM = OpenApiTypes.OBJECT
