"""REST endpoints. Each declares the scope every method needs and calls services for writes."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.response import Response

from notifications.api import filters
from notifications.api.serializers import (
    CategorySerializer,
    DeliverySerializer,
    EventDetailSerializer,
    EventSerializer,
    EventTriggerSerializer,
    RecipientGroupSerializer,
    SubscriberSerializer,
)
from notifications.models import Category, Delivery, Event, RecipientGroup, Subscriber
from notifications.services.events import event_ingest


class BodyRequired:
    """Writes that take a JSON document say so when the body is empty (DRF would hand the
    serializer an empty object and answer "field required" for every field)."""

    body_actions = ("create", "update", "partial_update")

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if getattr(self, "action", None) in self.body_actions \
                and not int(request.META.get("CONTENT_LENGTH") or 0):
            raise exceptions.ParseError("The request body is empty; send a JSON object.")


READ_WRITE = {"GET": "{}:read", "POST": "{}:write", "PUT": "{}:write", "PATCH": "{}:write",
              "DELETE": "{}:write"}


def scopes_for(resource: str) -> dict[str, str]:
    return {method: scope.format(resource) for method, scope in READ_WRITE.items()}


class EventViewSet(BodyRequired, mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                   viewsets.GenericViewSet):
    """Trigger events and follow what became of them."""

    required_scopes = scopes_for("events")
    filterset_class = filters.EventFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return Event.objects.none()
        events = Event.objects.filter(application=self.request.user.application)
        if self.action == "retrieve":
            deliveries = Delivery.objects.select_related("rule", "subscriber").order_by("created_at")
            events = events.prefetch_related(Prefetch("deliveries", queryset=deliveries))
        return events

    def get_serializer_class(self):
        return {"create": EventTriggerSerializer, "retrieve": EventDetailSerializer}.get(
            self.action, EventSerializer)

    @extend_schema(
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER,
                                     description="Same as idempotency_key in the body.")],
        responses={202: EventSerializer},
    )
    def create(self, request, *args, **kwargs):
        trigger = EventTriggerSerializer(data=request.data)
        trigger.is_valid(raise_exception=True)
        values = trigger.validated_data
        key = values.get("idempotency_key")
        header_key = request.headers.get("Idempotency-Key")
        if header_key and key and header_key != key:
            raise serializers.ValidationError(
                {"idempotency_key": ["Differs from the Idempotency-Key header."]})
        event, created = event_ingest(
            event_type=values["event"], recipients=values["to"], data=values["data"],
            application=request.user.application, api_key=request.user.api_key,
            idempotency_key=key or header_key, send_at=values.get("send_at"),
        )
        headers = {"Location": f"/api/events/{event.pk}"}
        if not created:
            headers["Idempotent-Replayed"] = "true"
        event.refresh_from_db()
        return Response(EventSerializer(event).data, status=status.HTTP_202_ACCEPTED,
                        headers=headers)


class DeliveryViewSet(viewsets.ReadOnlyModelViewSet):
    """Every message Clarion sent or tried to send for this Application's events."""

    required_scopes = {"GET": "events:read"}
    serializer_class = DeliverySerializer
    filterset_class = filters.DeliveryFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Delivery.objects.none()
        return (Delivery.objects.filter(event__application=self.request.user.application)
                .select_related("rule", "subscriber"))


class DirectoryScoped:
    """A viewset over the caller's directory only: another Application's subscribers and
    groups are not found (404), and what the caller creates lands in its own directory."""

    def directory_id(self) -> int | None:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return None
        return self.request.user.application.directory_id

    def get_queryset(self):
        return super().get_queryset().filter(directory_id=self.directory_id())

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "directory_id": self.directory_id()}

    def perform_create(self, serializer):
        serializer.save(directory_id=self.directory_id())


class SubscriberViewSet(BodyRequired, DirectoryScoped, viewsets.ModelViewSet):
    """People Clarion can reach, addressed by the integrator's own ``external_id``.

    Each Application sees only the subscribers of its own directory.
    """

    required_scopes = scopes_for("subscribers")
    serializer_class = SubscriberSerializer
    queryset = Subscriber.objects.prefetch_related("groups")
    lookup_field = "external_id"
    lookup_value_regex = "[^/]+"
    filterset_fields = ["email", "phone"]


class RecipientGroupViewSet(BodyRequired, DirectoryScoped, viewsets.ModelViewSet):
    """Named audiences (``#admins``) with subscriber members and raw channel targets.

    Address a group by its name with or without the leading '#'. Each Application sees
    only the groups of its own directory.
    """

    required_scopes = scopes_for("groups")
    serializer_class = RecipientGroupSerializer
    queryset = RecipientGroup.objects.prefetch_related("members", "targets")
    lookup_field = "name"
    lookup_value_regex = "[^/]+"

    def get_object(self):
        name = self.kwargs["name"]
        self.kwargs["name"] = name if name.startswith("#") else f"#{name}"
        return super().get_object()


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """What notifications are about; the unit subscribers set preferences on."""

    required_scopes = {"GET": "categories:read"}
    serializer_class = CategorySerializer
    queryset = Category.objects.all()
    lookup_field = "key"
