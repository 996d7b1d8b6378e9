"""The end user's inbox over REST: list, read, read all, delete, unread count, test, preferences.

Every endpoint acts on the caller's own subscriber only; ids of someone else's
notifications are answered with 404 and nothing is touched.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from inbox.api.schema import PREFERENCES, PREFERENCES_UPDATE
from inbox.auth import InboxSessionAuthentication, InboxTokenAuthentication, IsInboxReader
from inbox.models import Notification
from inbox.selectors import notification_as_dict, notifications_visible, unread_count
from inbox.services import notifications as service
from inbox.services.preferences import preferences_get, preferences_update
from notifications.api.serializers import StrictSerializer


class InboxView(APIView):
    authentication_classes = [InboxTokenAuthentication, InboxSessionAuthentication]
    permission_classes = [IsInboxReader]

    @property
    def subscriber(self):
        return self.request.user.subscriber


class InboxWriteView(InboxView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "inbox-write"


class NotificationSerializer(serializers.Serializer):
    """Documents the shape; rows are rendered by ``notification_as_dict``."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField()
    action_url = serializers.CharField()
    level = serializers.ChoiceField(choices=["info", "success", "warning", "error"])
    category = serializers.CharField(allow_null=True)
    data = serializers.JSONField()
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, instance):
        return notification_as_dict(instance)


class IdsSerializer(StrictSerializer):
    # Bounded above too: a larger number is no row id and overflows the database's integer.
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
                                allow_empty=False, min_length=1, max_length=1000)


class UnreadCountSerializer(serializers.Serializer):
    unread_count = serializers.IntegerField()


def _ids(request) -> list[int]:
    body = IdsSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    return body.validated_data["ids"]


def _changed(subscriber, changed: int) -> Response:
    return Response({"changed": changed, "unread_count": unread_count(subscriber_id=subscriber.pk)})


@extend_schema(parameters=[
    OpenApiParameter("unread", bool, description="Only unread (true) or only read (false)."),
    OpenApiParameter("category", str, description="A category key."),
])
class NotificationListView(InboxView, generics.ListAPIView):
    """The caller's notifications, newest first."""

    serializer_class = NotificationSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return Notification.objects.none()
        rows = notifications_visible(subscriber_id=self.subscriber.pk)
        unread = self.request.query_params.get("unread")
        if unread is not None:
            if unread not in ("true", "false", "1", "0"):
                raise serializers.ValidationError({"unread": ["Use true or false."]})
            rows = rows.filter(read_at__isnull=unread in ("true", "1"))
        category = self.request.query_params.get("category")
        if category:
            rows = rows.filter(category__key=category)
        return rows


class _ChangeView(InboxWriteView):
    change = None  # the service function

    @extend_schema(request=IdsSerializer, responses={200: inline_serializer(
        "InboxChange", {"changed": serializers.IntegerField(),
                        "unread_count": serializers.IntegerField()})})
    def post(self, request):
        try:
            changed = type(self).change(subscriber_id=self.subscriber.pk, ids=_ids(request))
        except service.NotificationsNotFound as exc:
            return Response({"detail": "Not found.", "ids": exc.missing},
                            status=status.HTTP_404_NOT_FOUND)
        return _changed(self.subscriber, changed)


class MarkAsReadView(_ChangeView):
    """Mark some of the caller's notifications read."""

    change = staticmethod(service.notifications_mark_read)


class DeleteView(_ChangeView):
    """Delete some of the caller's notifications."""

    change = staticmethod(service.notifications_delete)


class MarkAllAsReadView(InboxWriteView):
    """Mark every notification of the caller read."""

    @extend_schema(request=None, responses={200: UnreadCountSerializer})
    def post(self, request):
        changed = service.notifications_mark_all_read(subscriber_id=self.subscriber.pk)
        return _changed(self.subscriber, changed)


class UnreadCountView(InboxView):
    @extend_schema(responses={200: UnreadCountSerializer})
    def get(self, request):
        return Response({"unread_count": unread_count(subscriber_id=self.subscriber.pk)})


class TestNotificationView(InboxWriteView):
    """Send the caller a test notification through the real pipeline."""

    @extend_schema(request=None, responses={202: inline_serializer(
        "InboxTest", {"event_id": serializers.UUIDField()})})
    def post(self, request):
        event = service.notification_send_test(subscriber=self.subscriber)
        return Response({"event_id": str(event.pk)}, status=status.HTTP_202_ACCEPTED)


class PreferencesView(InboxWriteView):
    """Category × channel switches (critical categories locked on) and quiet hours."""

    def get_throttles(self):
        return super().get_throttles() if self.request.method == "PUT" else []

    @extend_schema(responses={200: PREFERENCES})
    def get(self, request):
        return Response(preferences_get(subscriber=self.subscriber))

    @extend_schema(request={"application/json": PREFERENCES_UPDATE}, responses={200: PREFERENCES})
    def put(self, request):
        # A Django ValidationError becomes a 400 naming the field (notifications.api.errors).
        return Response(preferences_update(subscriber=self.subscriber, data=request.data))
