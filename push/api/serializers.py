"""The device documents of the API: what is sent to register one, what comes back."""

from __future__ import annotations

from rest_framework import serializers

from notifications.api.serializers import StrictSerializer
from push.models import ApnsEnvironment, Device, DeviceKind


class SubscriptionKeysSerializer(StrictSerializer):
    p256dh = serializers.CharField()
    auth = serializers.CharField()


class BrowserSubscriptionSerializer(StrictSerializer):
    """A browser's ``PushSubscription.toJSON()``, as it comes."""

    endpoint = serializers.CharField()
    expirationTime = serializers.IntegerField(required=False, allow_null=True)  # noqa: N815
    keys = SubscriptionKeysSerializer()


class DeviceInputSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=DeviceKind.choices)
    token = serializers.CharField(
        required=False, trim_whitespace=False,
        help_text="FCM registration token, APNs device token (hex), Expo push token, or a "
                  "browser's endpoint URL (or give `subscription` instead).")
    subscription = BrowserSubscriptionSerializer(
        required=False, help_text="Web Push: the browser's PushSubscription.toJSON() as it is.")
    p256dh = serializers.CharField(required=False, allow_blank=True,
                                   help_text="Web Push: the subscription's p256dh key.")
    auth = serializers.CharField(required=False, allow_blank=True,
                                 help_text="Web Push: the subscription's auth secret.")
    apns_topic = serializers.CharField(required=False, allow_blank=True, max_length=200,
                                       help_text="APNs: the bundle id (APNS_TOPIC when empty).")
    apns_environment = serializers.ChoiceField(choices=ApnsEnvironment.choices, required=False,
                                               allow_blank=True)
    label = serializers.CharField(required=False, allow_blank=True, max_length=200,
                                  help_text='For people: "Firefox on Linux", "Ada\'s iPhone".')

    def validate(self, attrs):
        subscription = attrs.pop("subscription", None)
        if subscription is not None:
            if attrs.get("token") or attrs.get("p256dh") or attrs.get("auth"):
                raise serializers.ValidationError(
                    {"subscription": ["Give the subscription or token and keys, not both."]})
            attrs.update(token=subscription["endpoint"], p256dh=subscription["keys"]["p256dh"],
                         auth=subscription["keys"]["auth"])
        if not attrs.get("token"):
            raise serializers.ValidationError({"token": ["A token is required."]})
        return attrs


class DeviceSerializer(serializers.ModelSerializer):
    token = serializers.CharField(source="masked_token", read_only=True,
                                  help_text="Masked: enough to tell devices apart.")

    class Meta:
        model = Device
        fields = ["id", "kind", "token", "label", "apns_topic", "apns_environment", "enabled",
                  "disabled_reason", "last_success_at", "last_error", "last_error_at",
                  "created_at"]
        read_only_fields = fields


class DeviceRemoveSerializer(StrictSerializer):
    token = serializers.CharField(required=False, trim_whitespace=False,
                                  help_text="The token or endpoint the device registered with.")
    endpoint = serializers.CharField(required=False, help_text="Web Push: the same, by name.")

    def validate(self, attrs):
        if not (attrs.get("token") or attrs.get("endpoint")):
            raise serializers.ValidationError({"token": ["Say which device: its token."]})
        return attrs
