"""Request and response shapes of the REST API."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import models, transaction
from django.db.models import Prefetch, prefetch_related_objects
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from notifications.addresses import address_validate, phone_validate
from notifications.models import (
    Category,
    Delivery,
    Event,
    GroupTarget,
    RecipientGroup,
    Subscriber,
    TrackingEvent,
)


class StrictInput:
    """Accepts only what the serializer describes: an unknown field (a typo such as
    ``emali``) is a 400 rather than silently dropped, a text field given a number or a
    list is a 400 rather than turned into its string, and a list field given an object is
    a 400 rather than read as its keys."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            errors = {name: ["Unknown field."] for name in sorted(set(data) - set(self.fields))}
            for name, field in self.fields.items():
                value = data.get(name)
                if field.read_only or value is None:
                    continue
                if isinstance(field, serializers.CharField) and not isinstance(value, str):
                    errors[name] = ["Not a valid string."]
                elif isinstance(field, serializers.ManyRelatedField | serializers.ListField |
                                RecipientsField) and not isinstance(value, list):
                    errors[name] = ["Expected a list."]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictSerializer(StrictInput, serializers.Serializer):
    pass


class StrictModelSerializer(StrictInput, serializers.ModelSerializer):
    pass


_INLINE_SUBSCRIBER = {
    "type": "object", "required": ["subscriber_id"], "additionalProperties": False,
    "description": "A subscriber created or updated on the fly.",
    "properties": {"subscriber_id": {"type": "string"}, "email": {"type": "string"},
                   "phone": {"type": "string"}, "first_name": {"type": "string"},
                   "last_name": {"type": "string"}, "locale": {"type": "string"},
                   "timezone": {"type": "string"}, "data": {"type": "object"}},
}
RECIPIENTS_SCHEMA = {
    "type": "array", "maxItems": 1000,
    "description": "Who to tell: a subscriber's external id, a #group, a raw address on a "
                   "channel, or a subscriber given inline.",
    "items": {"anyOf": [
        {"type": "string", "minLength": 1, "description": "An external id, or #group."},
        {"type": "object", "minProperties": 1, "maxProperties": 1,
         "additionalProperties": {"type": "string"},
         "description": 'A raw address keyed by its channel: {"email": "a@example.com"}.'},
        {"type": "object", "required": ["channel", "address"], "additionalProperties": False,
         "properties": {"channel": {"type": "string"}, "address": {"type": "string"}}},
        _INLINE_SUBSCRIBER,
    ]},
    "example": ["user-123", "#admins", {"email": "ops@example.com"}],
}


@extend_schema_field(RECIPIENTS_SCHEMA)
class RecipientsField(serializers.JSONField):
    pass


@extend_schema_field({"type": "object", "additionalProperties": True,
                      "example": {"order_id": "A-1001", "carrier": "DHL"},
                      "description": "Anything the rules' conditions and templates use."})
class EventDataField(serializers.JSONField):
    pass


class EventTriggerSerializer(StrictSerializer):
    event = serializers.CharField(max_length=200,
                                  help_text="The event type, e.g. order.shipped.")
    to = RecipientsField(required=False, default=list)
    data = EventDataField(required=False, default=dict)
    idempotency_key = serializers.CharField(max_length=255, required=False)
    send_at = serializers.CharField(
        required=False, allow_null=True, allow_blank=True,
        help_text="ISO-8601 with offset; process the event then (absent or past: now).")

    def validate_send_at(self, value):
        from django.core.exceptions import ValidationError as DjangoValidationError

        from notifications.services.scheduling import send_at_parse

        try:
            return send_at_parse(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["send_at"]) from exc


class TrackingEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrackingEvent
        fields = ["kind", "occurred_at", "detail"]


class DeliveryListSerializer(serializers.ListSerializer):
    """Loads every listed delivery's escalations and tracking events in two queries."""

    def to_representation(self, data):
        rows = list(data.all() if isinstance(data, models.manager.BaseManager) else data)
        prefetch_related_objects(
            rows, Prefetch("children", queryset=Delivery.objects.only("pk", "parent_id")),
            "tracking")
        return super().to_representation(rows)


class DeliverySerializer(serializers.ModelSerializer):
    event = serializers.UUIDField(source="event_id", read_only=True)
    rule = serializers.CharField(source="rule.name", default=None, read_only=True)
    subscriber = serializers.CharField(source="subscriber.external_id", default=None,
                                       read_only=True)
    # The chain of an escalation: the in-app delivery it follows, and what followed it.
    parent = serializers.UUIDField(source="parent_id", read_only=True, allow_null=True)
    children = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    tracking = TrackingEventSerializer(many=True, read_only=True)

    class Meta:
        model = Delivery
        list_serializer_class = DeliveryListSerializer
        fields = ["id", "event", "rule", "subscriber", "channel", "address", "status",
                  "skip_reason", "attempts", "next_attempt_at", "provider_message_id",
                  "last_error", "error_code", "created_at", "updated_at", "sent_at",
                  "parent", "children", "opened_at", "clicked_at", "tracking"]


class EventSerializer(serializers.ModelSerializer):
    event = serializers.CharField(source="event_type")
    to = RecipientsField(source="recipients")
    data = EventDataField()

    class Meta:
        model = Event
        fields = ["id", "event", "status", "to", "data", "idempotency_key", "error",
                  "send_at", "created_at", "processed_at"]


class EventDetailSerializer(EventSerializer):
    deliveries = DeliverySerializer(many=True, read_only=True)

    class Meta(EventSerializer.Meta):
        fields = [*EventSerializer.Meta.fields, "deliveries"]


class DirectoryUnique:
    """Checks a name is free in the caller's directory (the database constraint is on
    (directory, name), which DRF cannot see because the directory is not a field)."""

    unique_field = ""

    def _directory_taken(self, value: str) -> bool:
        model = self.Meta.model
        taken = model.objects.filter(directory_id=self.context.get("directory_id"),
                                     **{self.unique_field: value})
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        return taken.exists()


class SubscriberSerializer(DirectoryUnique, StrictModelSerializer):
    groups = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    unique_field = "external_id"

    class Meta:
        model = Subscriber
        fields = ["external_id", "email", "phone", "first_name", "last_name", "locale",
                  "timezone", "channel_addresses", "data", "groups", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate_external_id(self, value):
        if self._directory_taken(value):
            raise serializers.ValidationError("A subscriber with this external id already exists.")
        return value

    def validate_phone(self, value):
        # A number the SMS channel would refuse is refused here, where it is entered.
        return phone_validate(value) if value else value

    def validate_channel_addresses(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be an object of channel → address.")
        for channel, address in value.items():
            try:
                address_validate(channel=channel, address=address, field=channel, staff=False)
            except Exception as exc:  # Django ValidationError, re-raised in DRF's shape
                raise serializers.ValidationError(getattr(exc, "message_dict", str(exc))) from exc
        return value

    def validate_data(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        return value


class GroupTargetSerializer(StrictModelSerializer):
    class Meta:
        model = GroupTarget
        fields = ["channel", "address", "label"]

    def validate(self, attrs):
        try:
            address_validate(channel=attrs["channel"], address=attrs["address"], staff=False)
        except Exception as exc:
            raise serializers.ValidationError(getattr(exc, "message_dict", str(exc))) from exc
        return attrs


class DirectoryMembers(serializers.SlugRelatedField):
    """Members named by external id, looked up in the caller's directory only."""

    def get_queryset(self):
        return Subscriber.objects.filter(directory_id=self.context.get("directory_id"))


class RecipientGroupSerializer(DirectoryUnique, StrictModelSerializer):
    members = DirectoryMembers(slug_field="external_id", many=True, required=False)
    targets = GroupTargetSerializer(many=True, required=False)
    unique_field = "name"

    class Meta:
        model = RecipientGroup
        fields = ["name", "description", "members", "targets", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def to_internal_value(self, data):
        # "oncall" and "#oncall" name the same group, as in the URL.
        name = data.get("name") if isinstance(data, Mapping) else None
        if isinstance(name, str) and name and not name.startswith("#"):
            data = {**data, "name": f"#{name}"}
        return super().to_internal_value(data)

    def validate_name(self, value):
        if self._directory_taken(value):
            raise serializers.ValidationError("A recipient group with this name already exists.")
        return value

    def validate_targets(self, value):
        seen = set()
        for target in value:
            key = (target["channel"], target["address"])
            if key in seen:
                raise serializers.ValidationError(f"Target {key[0]}:{key[1]} is listed twice.")
            seen.add(key)
        return value

    @transaction.atomic
    def create(self, validated_data):
        members = validated_data.pop("members", [])
        targets = validated_data.pop("targets", [])
        group = RecipientGroup.objects.create(**validated_data)
        group.members.set(members)
        GroupTarget.objects.bulk_create(GroupTarget(group=group, **t) for t in targets)
        return group

    @transaction.atomic
    def update(self, instance, validated_data):
        members = validated_data.pop("members", None)
        targets = validated_data.pop("targets", None)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        instance.save()
        if members is not None:
            instance.members.set(members)
        if targets is not None:
            instance.targets.all().delete()
            GroupTarget.objects.bulk_create(GroupTarget(group=instance, **t) for t in targets)
        return instance


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["key", "name", "description", "critical"]
