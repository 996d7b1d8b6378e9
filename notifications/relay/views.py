"""The relay endpoint: token, throttle, channel, length — then the real outcome.

The token is an API key with the ``relay:post`` scope, sent as
``Authorization: Bearer <key>`` or, for tools that can only fetch a URL, as a
path segment: ``/post/{key}/channel/{channel}/msg/{message}``. Prefer the
header: a URL ends up in proxy and shell history logs.

Answers (JSON): 200 once every target's provider accepted the message, with the
delivery id(s); 502 with the provider's error when any target failed or was
skipped; 400 for an empty or over-long message; 401 for a missing or bad
token, 403 for a key without the scope, 404 for an unknown or disabled relay
channel, 429 when the key is over ``RELAY_THROTTLE_RATE``.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.authentication import get_authorization_header
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from notifications.api.authentication import ApiClient, ApiKeyAuthentication
from notifications.api.permissions import HasScope
from notifications.models import Delivery, RelayChannel
from notifications.services.api_keys import api_key_authenticate
from notifications.services.relay import NoRelayTargets, RelayOutcome, relay_post


class RelayTokenAuthentication(ApiKeyAuthentication):
    """The API key from the path (``/post/{key}/…``) or from ``Authorization: Bearer``."""

    def authenticate(self, request: Request):
        token = (request.parser_context or {}).get("kwargs", {}).get("token")
        if token is None:
            return super().authenticate(request)
        if get_authorization_header(request):
            raise exceptions.AuthenticationFailed("Send the key in the path or in the "
                                                  "Authorization header, not both.")
        api_key = api_key_authenticate(secret=token)
        if api_key is None:
            raise exceptions.AuthenticationFailed("The API key is unknown or has been revoked.")
        return ApiClient(api_key=api_key), api_key


class RelayThrottle(SimpleRateThrottle):
    """``RELAY_THROTTLE_RATE`` requests per API key, counted in the shared cache."""

    scope = "relay"

    def get_rate(self) -> str:
        return settings.RELAY_THROTTLE_RATE

    def get_cache_key(self, request: Request, view) -> str | None:
        if isinstance(request.user, ApiClient):
            ident = f"key-{request.user.api_key.pk}"
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


def _delivery_json(delivery: Delivery) -> dict:
    return {"id": str(delivery.pk), "channel": delivery.channel, "target": delivery.address,
            "status": delivery.status, "skip_reason": delivery.skip_reason or None,
            "error": delivery.last_error or None,
            "provider_message_id": delivery.provider_message_id or None}


def _outcome_json(relay: RelayChannel, outcome: RelayOutcome) -> dict:
    deliveries = [_delivery_json(d) for d in outcome.deliveries]
    failed = [d for d in deliveries if d["status"] not in ("sent", "delivered")]
    return {
        "status": "sent" if outcome.accepted else "failed",
        "channel": relay.name,
        "event_id": str(outcome.event.pk),
        "delivery_id": deliveries[0]["id"],
        "deliveries": deliveries,
        "error": "; ".join(d["error"] or d["status"] for d in failed) or None,
    }


class RelayPostView(APIView):
    """Post the URL's message to a relay channel and answer with the outcome."""

    authentication_classes = [RelayTokenAuthentication]
    permission_classes = [HasScope]
    throttle_classes = [RelayThrottle]
    required_scopes = {"GET": "relay:post", "POST": "relay:post"}
    schema = None  # documented in docs/channels.md; its path shape is not a REST resource

    def get(self, request: Request, channel: str, message: str, token: str | None = None
            ) -> Response:
        relay = RelayChannel.objects.select_related("group").filter(name=channel,
                                                                    enabled=True).first()
        if relay is None:
            raise exceptions.NotFound(f"There is no enabled relay channel named {channel!r}.")
        try:
            outcome = relay_post(relay=relay, message=message, api_key=request.user.api_key)
        except NoRelayTargets as exc:
            return Response({"status": "failed", "channel": relay.name, "error": str(exc)},
                            status=status.HTTP_502_BAD_GATEWAY)
        return Response(_outcome_json(relay, outcome),
                        status=status.HTTP_200_OK if outcome.accepted
                        else status.HTTP_502_BAD_GATEWAY)

    post = get


def empty_message(request, channel: str, token: str | None = None):
    """``/post/channel/{name}/msg/`` with nothing after it."""
    from django.http import JsonResponse

    return JsonResponse({"status": "failed", "channel": channel,
                         "error": "The message is empty; put it after /msg/ (URL-encoded)."},
                        status=400)
