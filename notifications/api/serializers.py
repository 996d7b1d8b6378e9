"""Request and response shapes of the REST API."""

from __future__ import annotations

from django.db import transaction
from rest_framework import serializers

from notifications.models import (
    Category,
    Delivery,
    Event,
    GroupTarget,
    RecipientGroup,
    Subscriber,
)
from notifications.services.addresses import address_validate


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


class DeliverySerializer(serializers.ModelSerializer):
    event = serializers.UUIDField(source="event_id", read_only=True)
    rule = serializers.CharField(source="rule.name", default=None, read_only=True)
    subscriber = serializers.CharField(source="subscriber.external_id", default=None,
                                       read_only=True)

    class Meta:
        model = Delivery
        fields = ["id", "event", "rule", "subscriber", "channel", "address", "status",
                  "skip_reason", "attempts", "next_attempt_at", "provider_message_id",
                  "last_error", "error_code", "created_at", "updated_at", "sent_at"]


class EventSerializer(serializers.ModelSerializer):
    event = serializers.CharField(source="event_type")
    to = serializers.JSONField(source="recipients")

    class Meta:
        model = Event
        fields = ["id", "event", "status", "to", "data", "idempotency_key", "error",
                  "created_at", "processed_at"]


class EventDetailSerializer(EventSerializer):
    deliveries = DeliverySerializer(many=True, read_only=True)

    class Meta(EventSerializer.Meta):
        fields = [*EventSerializer.Meta.fields, "deliveries"]


class SubscriberSerializer(serializers.ModelSerializer):
    groups = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta:
        model = Subscriber
        fields = ["external_id", "email", "phone", "first_name", "last_name", "locale",
                  "timezone", "channel_addresses", "data", "groups", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate_channel_addresses(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be an object of channel → address.")
        for channel, address in value.items():
            try:
                address_validate(channel=channel, address=address, field=channel)
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
            address_validate(channel=attrs["channel"], address=attrs["address"])
        except Exception as exc:
            raise serializers.ValidationError(getattr(exc, "message_dict", str(exc))) from exc
        return attrs


class RecipientGroupSerializer(serializers.ModelSerializer):
    members = serializers.SlugRelatedField(slug_field="external_id", many=True, required=False,
                                           queryset=Subscriber.objects.all())
    targets = GroupTargetSerializer(many=True, required=False)

    class Meta:
        model = RecipientGroup
        fields = ["name", "description", "members", "targets", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

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
