"""The push-server-compatible HTTP API: register a user's connection, push to it, status probes.

Backends written for an existing push server call these paths unchanged:
``PUT /api/{userId}/register?connectionId=…`` and ``POST /api/{userId}/push``
with the API key in ``X-AUTH-TOKEN``, plus the unauthenticated
``GET /api/status/ping`` and ``GET /api/status/info``. The browser side is
``inbox.consumers.push``.
"""

from __future__ import annotations

import functools
import importlib.metadata
import re
import tomllib
from typing import Any

from django.conf import settings
from django.http import HttpResponse, QueryDict
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import authentication, exceptions, permissions, serializers
from rest_framework.parsers import FormParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox.services.push import (
    PUSH_ID_MAX_LENGTH,
    LiveDeliveryUnavailable,
    push_connection_register,
    push_send,
)
from notifications.api.authentication import ApiClient
from notifications.api.parsers import LimitedJSONParser
from notifications.models import ApiKey
from notifications.services.api_keys import api_key_authenticate

TOKEN_HEADER = "X-AUTH-TOKEN"  # noqa: S105 — a header name, not a secret
PUSH_SCOPE = "push"


class PushTokenAuthentication(authentication.BaseAuthentication):
    """The API key in ``X-AUTH-TOKEN``, as push-server clients send it; same principal as Bearer keys."""

    def authenticate(self, request: Request) -> tuple[ApiClient, ApiKey]:
        secret = request.headers.get(TOKEN_HEADER, "").strip()
        if not secret:
            raise exceptions.NotAuthenticated(
                f"Send an API key with the '{PUSH_SCOPE}' scope in the {TOKEN_HEADER} header.")
        api_key = api_key_authenticate(secret=secret)
        if api_key is None:
            raise exceptions.AuthenticationFailed("The API key is unknown or has been revoked.")
        return ApiClient(api_key=api_key), api_key

    def authenticate_header(self, request: Request) -> str:
        # Without a challenge DRF turns a failed authentication into 403; clients expect 401.
        return f'{TOKEN_HEADER} realm="clarion"'


class PushTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "inbox.api.push.PushTokenAuthentication"
    name = "pushToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": TOKEN_HEADER,
                "description": f"A Clarion API key with the '{PUSH_SCOPE}' scope."}


class _PushIdField(serializers.CharField):
    # Ids are opaque: the browser must present exactly what the backend registered.
    def __init__(self, **kwargs) -> None:
        super().__init__(max_length=PUSH_ID_MAX_LENGTH, trim_whitespace=False, **kwargs)


class UserIdSerializer(serializers.Serializer):
    userId = _PushIdField()  # noqa: N815 — the push-server clients' spelling


class RegisterSerializer(UserIdSerializer):
    connectionId = _PushIdField()  # noqa: N815


class RegisteredSerializer(serializers.Serializer):
    userId = serializers.CharField()  # noqa: N815
    connectionId = serializers.CharField()  # noqa: N815


@extend_schema_field({"oneOf": [{"type": "object", "additionalProperties": True},
                                {"type": "array", "items": {}}, {"type": "string"},
                                {"type": "number"}, {"type": "boolean"}],
                      "example": {"title": "Build finished", "body": "main is green"}})
class _PushMessageField(serializers.JSONField):
    """Any JSON value but null (nothing to show)."""


class PushMessageSerializer(serializers.Serializer):
    message = _PushMessageField(help_text="Any JSON; commonly {\"title\", \"body\", \"params\"}.")


class PushResultSerializer(serializers.Serializer):
    registered_connections = serializers.IntegerField(
        help_text="How many connections are registered for the user (each open one receives it).")


class _PushApiView(APIView):
    # Permissions stay the project default (HasScope), which reads ``required_scopes``.
    authentication_classes = [PushTokenAuthentication]


class PushRegisterView(_PushApiView):
    """Register a connection id for one of the Application's users."""

    required_scopes = {"PUT": PUSH_SCOPE}

    @extend_schema(
        operation_id="push_register", tags=["push"],
        parameters=[OpenApiParameter("connectionId", {"type": "string", "minLength": 1,
                                                      "maxLength": PUSH_ID_MAX_LENGTH},
                                     OpenApiParameter.QUERY, required=True,
                                     description="The random id the backend hands to the browser.")],
        request=None,
        responses={200: RegisteredSerializer},
    )
    def put(self, request: Request, user_id: str) -> Response:
        given = {"userId": user_id}
        if "connectionId" in request.query_params:  # absent → "required", not "may not be null"
            given["connectionId"] = request.query_params["connectionId"]
        ids = RegisterSerializer(data=given)
        ids.is_valid(raise_exception=True)
        connection = push_connection_register(
            application=request.user.application, user_id=ids.validated_data["userId"],
            connection_id=ids.validated_data["connectionId"])
        return Response({"userId": connection.user_id, "connectionId": connection.connection_id})


_FORM_KEY = re.compile(r"\[([^\[\]]*)\]")


def form_message(form: QueryDict) -> dict[str, Any]:
    """The body of a form-encoded push as the original server's parser read it.

    ``message=hello`` gives the string; ``message[title]=Hi&message[body]=…``
    gives an object (bracketed keys nest, ``[]`` collects a list), the way
    Express's extended urlencoded parser reads them.
    """
    if "message" in form:
        return {"message": form["message"]}
    nested: dict[str, Any] = {}
    for key, values in form.lists():
        path = _FORM_KEY.findall(key[len("message"):]) if key.startswith("message[") else []
        as_list = bool(path) and path[-1] == ""  # message[tags][]=a&message[tags][]=b
        if as_list:
            path.pop()
        if not path or "" in path:
            continue
        *parents, last = path
        target = nested
        for part in parents:
            child = target.setdefault(part, {})
            if not isinstance(child, dict):
                break
            target = child
        else:
            target[last] = list(values) if as_list else values[-1]
    return {"message": nested} if nested else {}


class PushSendView(_PushApiView):
    """Push a message to every registered session of one of the Application's users.

    The body is JSON (``{"message": …}``) or, as the original push server also
    accepted, form-encoded (``message=…`` or ``message[title]=…``).
    """

    required_scopes = {"POST": PUSH_SCOPE}
    parser_classes = [LimitedJSONParser, FormParser]

    @extend_schema(operation_id="push_send", tags=["push"],
                   request={"application/json": PushMessageSerializer,
                            "application/x-www-form-urlencoded": PushMessageSerializer},
                   responses={200: PushResultSerializer, 503: OpenApiResponse(
                       description="Live delivery (Redis) is down; nothing was delivered. Retry.")})
    def post(self, request: Request, user_id: str) -> Response:
        UserIdSerializer(data={"userId": user_id}).is_valid(raise_exception=True)
        data = form_message(request.data) if isinstance(request.data, QueryDict) else request.data
        body = PushMessageSerializer(data=data)
        body.is_valid(raise_exception=True)
        try:
            registered = push_send(application=request.user.application, user_id=user_id,
                                   message=body.validated_data["message"])
        except LiveDeliveryUnavailable:
            return Response({"detail": "Live delivery is unavailable right now; nothing was "
                                       "delivered. Retry shortly."},
                            status=503, headers={"Retry-After": "5"})
        return Response({"registered_connections": registered})


@functools.cache
def clarion_version() -> str:
    """The installed distribution's version, else the source tree's pyproject.toml."""
    try:
        return importlib.metadata.version("clarion")
    except importlib.metadata.PackageNotFoundError:
        pass
    try:  # running from a checkout (``make run``): the package is not installed
        with open(settings.BASE_DIR / "pyproject.toml", "rb") as project:
            return str(tomllib.load(project)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


class StatusPingView(APIView):
    """Liveness probe of the push-server API: answers ``pong``."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(operation_id="push_status_ping", tags=["push"],
                   responses={(200, "text/plain"): OpenApiTypes.STR})
    def get(self, request: Request) -> HttpResponse:
        return HttpResponse("pong", content_type="text/plain; charset=utf-8")


class StatusInfoView(APIView):
    """Name and version of the server, as push-server clients ask for them."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(operation_id="push_status_info", tags=["push"], responses={200: inline_serializer(
        "PushStatusInfo", {"name": serializers.CharField(), "version": serializers.CharField()})})
    def get(self, request: Request) -> Response:
        return Response({"name": "Clarion", "version": clarion_version()})


# First segments under /api/ whose routes (``/api/events/{id}``, ...) would take
# /api/events/push for one of their own objects, so such a user id can never reach the push
# API. Said plainly, before any authentication (which would ask for the other API's).
RESERVED_USER_IDS = ("categories", "deliveries", "events", "groups", "subscribers")


def reserved_user_id(request, user_id: str, action: str):
    from django.http import JsonResponse

    return JsonResponse({"detail": f"{user_id!r} is reserved by Clarion's own API and cannot "
                                   f"be a push user id; {action} with another id (for example "
                                   f"'user-{user_id}')."}, status=400)
