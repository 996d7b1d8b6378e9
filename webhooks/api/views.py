"""Webhook endpoint configurations: CRUD, logs, messages, test, resend, recover, secrets.

Every view answers only for the caller's own Application: another
Application's endpoint is a 404, exactly like one that does not exist.
Reading needs ``webhooks:read``; everything else ``webhooks:write``.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from notifications.api.views import BodyRequired
from webhooks.api.filters import AttemptFilter, MessageFilter
from webhooks.api.serializers import (
    AttemptResultSerializer,
    AttemptSerializer,
    EndpointCreatedSerializer,
    EndpointCreateSerializer,
    EndpointInputSerializer,
    EndpointSerializer,
    MessageSerializer,
    RecoverSerializer,
    RegeneratedSecretSerializer,
    RegenerateSecretSerializer,
)
from webhooks.models import Endpoint
from webhooks.selectors import attempts_of, endpoints_of, messages_of
from webhooks.services.endpoints import endpoint_create, endpoint_delete, endpoint_update
from webhooks.services.messages import endpoint_recover, endpoint_test_send, message_resend
from webhooks.services.secrets import endpoint_secret_regenerate, endpoint_secrets_expire_old
from webhooks.services.sending import AttemptResult

SCOPES = {"GET": "webhooks:read", "POST": "webhooks:write", "PUT": "webhooks:write",
          "PATCH": "webhooks:write", "DELETE": "webhooks:write"}


def _attempt_result(result: AttemptResult) -> dict:
    attempt = result.attempt
    return {"message_id": attempt.message.webhook_id, "success": result.succeeded,
            "status_code": attempt.status_code, "latency_ms": attempt.latency_ms,
            "response_excerpt": attempt.response_excerpt, "error_class": attempt.error_class,
            "error": attempt.error, "attempt": AttemptSerializer(attempt).data}


class EndpointViewSet(BodyRequired, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      viewsets.GenericViewSet):
    """Endpoints that receive this Application's events as signed POSTs (Standard Webhooks)."""

    required_scopes = SCOPES
    serializer_class = EndpointSerializer
    lookup_value_regex = "[0-9a-fA-F-]{32,36}"
    filterset_fields = ["enabled"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return Endpoint.objects.none()
        return endpoints_of(application=self.request.user.application)

    def _fresh(self, endpoint: Endpoint) -> Endpoint:
        return self.get_queryset().get(pk=endpoint.pk)

    @extend_schema(request=EndpointCreateSerializer, responses={201: EndpointCreatedSerializer})
    def create(self, request: Request) -> Response:
        given = EndpointCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        created = endpoint_create(application=request.user.application, **given.validated_data)
        body = EndpointSerializer(self._fresh(created.endpoint)).data
        return Response({**body, "secret": created.secret}, status=status.HTTP_201_CREATED,
                        headers={"Location": f"/api/webhooks/configurations/{created.endpoint.pk}"})

    @extend_schema(request=EndpointInputSerializer, responses=EndpointSerializer)
    def update(self, request: Request, pk: str | None = None) -> Response:
        return self._change(request, partial=False)

    @extend_schema(request=EndpointInputSerializer, responses=EndpointSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        return self._change(request, partial=True)

    def _change(self, request: Request, *, partial: bool) -> Response:
        endpoint = self.get_object()
        given = EndpointInputSerializer(data=request.data, partial=partial)
        given.is_valid(raise_exception=True)
        endpoint = endpoint_update(endpoint=endpoint, **given.validated_data)
        return Response(EndpointSerializer(self._fresh(endpoint)).data)

    def destroy(self, request: Request, pk: str | None = None) -> Response:
        endpoint_delete(endpoint=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=AttemptSerializer(many=True), filters=True)
    @action(detail=True, methods=["get"])
    def logs(self, request: Request, pk: str | None = None) -> Response:
        """Every attempt to reach this endpoint, newest first (request headers redacted)."""
        return self._paged(AttemptFilter, attempts_of(endpoint=self.get_object()),
                           AttemptSerializer)

    @extend_schema(responses=MessageSerializer(many=True))
    @action(detail=True, methods=["get"])
    def messages(self, request: Request, pk: str | None = None) -> Response:
        """The messages sent (or being sent) to this endpoint, newest first."""
        return self._paged(MessageFilter, messages_of(endpoint=self.get_object()),
                           MessageSerializer)

    def _paged(self, filter_class, queryset, serializer_class) -> Response:
        filtered = filter_class(self.request.query_params, queryset=queryset)
        if not filtered.is_valid():
            raise serializers.ValidationError(filtered.errors)
        page = self.paginate_queryset(filtered.qs)
        return self.get_paginated_response(serializer_class(page, many=True).data)

    @extend_schema(request=None, responses=AttemptResultSerializer)
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str | None = None) -> Response:
        """Send a ``webhook.test`` message now; answer with how the endpoint responded."""
        return Response(_attempt_result(endpoint_test_send(endpoint=self.get_object())))

    @extend_schema(request=None, responses=AttemptResultSerializer)
    @action(detail=True, methods=["post"],
            url_path=r"messages/(?P<message_id>msg_[0-9a-zA-Z_-]{1,36})/resend")
    def resend(self, request: Request, pk: str | None = None,
               message_id: str | None = None) -> Response:
        """Send one message again now, with the same ``webhook-id`` and body."""
        message = get_object_or_404(messages_of(endpoint=self.get_object()), webhook_id=message_id)
        return Response(_attempt_result(message_resend(message=message)))

    @extend_schema(request=RecoverSerializer,
                   responses={202: OpenApiResponse(description='{"queued": <number of messages>}')})
    @action(detail=True, methods=["post"])
    def recover(self, request: Request, pk: str | None = None) -> Response:
        """Resend every failed message created since ``since`` (and before ``until``)."""
        endpoint = self.get_object()
        given = RecoverSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        queued = endpoint_recover(endpoint=endpoint, **given.validated_data)
        return Response({"queued": queued}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=RegenerateSecretSerializer, responses=RegeneratedSecretSerializer)
    @action(detail=True, methods=["post"], url_path="regenerate-secret")
    def regenerate_secret(self, request: Request, pk: str | None = None) -> Response:
        """A new secret now; the previous one keeps signing for the grace period."""
        endpoint = self.get_object()
        given = RegenerateSecretSerializer(data=request.data if request.body else {})
        given.is_valid(raise_exception=True)
        rotated = endpoint_secret_regenerate(endpoint=endpoint, **given.validated_data)
        return Response({"secret": rotated.secret,
                         "previous_secrets_valid_until": rotated.previous_valid_until})

    @extend_schema(request=None,
                   responses={200: OpenApiResponse(description='{"expired": <number of secrets>}')})
    @action(detail=True, methods=["post"], url_path="expire-old-secrets")
    def expire_old_secrets(self, request: Request, pk: str | None = None) -> Response:
        """End the grace period now: only the current secret signs from here on."""
        return Response({"expired": endpoint_secrets_expire_old(endpoint=self.get_object())})
