"""Request and response shapes of the REST API."""

from __future__ import annotations

from django.db import models, transaction
from django.db.models import Prefetch, prefetch_related_objects
from rest_framework import serializers

from notifications.addresses import address_validate
from notifications.models import (
    Category,
    Delivery,
    Event,
    GroupTarget,
    RecipientGroup,
    Subscriber,
    TrackingEvent,
)


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, so a typo is a 400 rather than silently ignored."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class EventTriggerSerializer(StrictSerializer):
    event = serializers.CharField(max_length=200)
    to = serializers.JSONField(required=False, default=list,
                               help_text='e.g. ["user-123", "#admins", {"email": "a@b.c"}]')
    data = serializers.JSONField(required=False, default=dict)
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
    to = serializers.JSONField(source="recipients")

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


class SubscriberSerializer(DirectoryUnique, serializers.ModelSerializer):
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


class GroupTargetSerializer(serializers.ModelSerializer):
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


class RecipientGroupSerializer(DirectoryUnique, serializers.ModelSerializer):
    members = DirectoryMembers(slug_field="external_id", many=True, required=False)
    targets = GroupTargetSerializer(many=True, required=False)
    unique_field = "name"

    class Meta:
        model = RecipientGroup
        fields = ["name", "description", "members", "targets", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

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
