"""Device endpoints: integrators manage any subscriber's devices with an API key; a person's
own page registers its browser (or app) with an inbox token; browsers fetch the VAPID key."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox.api.views import InboxWriteView
from notifications.models import Subscriber
from push.api.serializers import DeviceInputSerializer, DeviceRemoveSerializer, DeviceSerializer
from push.models import Device
from push.read_links import read_by_token
from push.senders import webpush
from push.services import device_register, device_remove


def _registered(subscriber: Subscriber, data) -> Response:
    given = DeviceInputSerializer(data=data)
    given.is_valid(raise_exception=True)
    device, created = device_register(subscriber=subscriber, **given.validated_data)
    return Response(DeviceSerializer(device).data,
                    status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class SubscriberDevicesView(APIView):
    """``/api/subscribers/{external_id}/devices``: list, or add (idempotent on the token)."""

    required_scopes = {"GET": "subscribers:read", "POST": "subscribers:write"}

    def subscriber(self, external_id: str) -> Subscriber:
        return get_object_or_404(Subscriber, external_id=external_id,
                                 directory_id=self.request.user.application.directory_id)

    @extend_schema(tags=["devices"], responses={200: DeviceSerializer(many=True)})
    def get(self, request, external_id: str):
        devices = Device.objects.filter(subscriber=self.subscriber(external_id))
        return Response(DeviceSerializer(devices, many=True).data)

    @extend_schema(tags=["devices"], request=DeviceInputSerializer,
                   responses={201: DeviceSerializer, 200: DeviceSerializer})
    def post(self, request, external_id: str):
        return _registered(self.subscriber(external_id), request.data)


class SubscriberDeviceView(APIView):
    """``/api/subscribers/{external_id}/devices/{id}``: remove one."""

    required_scopes = {"DELETE": "subscribers:write"}

    @extend_schema(tags=["devices"], responses={204: None})
    def delete(self, request, external_id: str, device_id):
        subscriber = get_object_or_404(Subscriber, external_id=external_id,
                                       directory_id=request.user.application.directory_id)
        if not device_remove(subscriber=subscriber, device_id=device_id):
            return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OwnDevicesView(InboxWriteView):
    """``/api/notifications/devices``: the signed-in person's own devices."""

    def get_throttles(self):
        return super().get_throttles() if self.request.method != "GET" else []

    @extend_schema(tags=["notifications"], responses={200: DeviceSerializer(many=True)})
    def get(self, request):
        return Response(DeviceSerializer(Device.objects.filter(subscriber=self.subscriber),
                                         many=True).data)

    @extend_schema(tags=["notifications"], request=DeviceInputSerializer,
                   responses={201: DeviceSerializer, 200: DeviceSerializer})
    def post(self, request):
        return _registered(self.subscriber, request.data)

    @extend_schema(tags=["notifications"], request=DeviceRemoveSerializer, responses={204: None})
    def delete(self, request):
        given = DeviceRemoveSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        token = given.validated_data.get("token") or given.validated_data["endpoint"]
        if not device_remove(subscriber=self.subscriber, token=token):
            return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PushReadView(APIView):
    """``/api/notifications/push-read``: a clicked push marks its in-app copy read. The
    signed token in the push is the only credential (a service worker has no other)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(tags=["notifications"], auth=[], request=inline_serializer(
        "PushRead", {"token": serializers.CharField(help_text="data.read_token of the push")}),
        responses={204: None})
    def post(self, request):
        token = request.data.get("token") if isinstance(request.data, dict) else None
        if not isinstance(token, str) or not token:
            return Response({"token": ["This field is required."]},
                            status=status.HTTP_400_BAD_REQUEST)
        read_by_token(token)
        return Response(status=status.HTTP_204_NO_CONTENT)


class VapidKeyView(APIView):
    """``/api/notifications/push-key``: what a browser subscribes with. Public: the key is."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(tags=["notifications"], auth=[], responses={200: inline_serializer(
        "PushKey", {"enabled": serializers.BooleanField(),
                    "vapid_public_key": serializers.CharField(allow_null=True)})})
    def get(self, request):
        if not webpush.configured():
            return Response({"enabled": False, "vapid_public_key": None})
        return Response({"enabled": True, "vapid_public_key": webpush.public_key()})
