"""Request and response shapes of the webhooks API.

Inputs refuse unknown fields (a typo is a 400, not silently ignored) and leave
the rules to the services, whose ``ValidationError`` becomes a 400 naming the
field. Outputs never carry a secret, except the ``secret`` of the create and
regenerate answers; credential-like custom header values are masked.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from notifications.api.serializers import StrictSerializer
from webhooks.models import Endpoint, WebhookAttempt, WebhookMessage
from webhooks.selectors import endpoint_success_rate, secrets_summary
from webhooks.services.headers import headers_masked
from webhooks.services.messages import message_data


class EndpointInputSerializer(StrictSerializer):
    url = serializers.CharField(max_length=2000, trim_whitespace=False)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    event_types = serializers.JSONField(
        required=False, help_text='Exact types or wildcards, e.g. ["order.shipped", "invoices.*"]; '
                                  "empty or absent: every event type.")
    enabled = serializers.BooleanField(required=False)
    headers = serializers.JSONField(required=False, help_text="Extra request headers, name → value.")


class EndpointCreateSerializer(EndpointInputSerializer):
    secret = serializers.CharField(required=False, trim_whitespace=False, help_text=(
        "Optional: bring your own 'whsec_…' secret (24–64 bytes); by default one is generated."))


class SecretInfoSerializer(serializers.Serializer):
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True,
                                           help_text="Empty for the current secret.")


class HealthSerializer(serializers.Serializer):
    last_success_at = serializers.DateTimeField(allow_null=True)
    failing_since = serializers.DateTimeField(allow_null=True)
    success_rate_24h = serializers.FloatField(allow_null=True)


class EndpointSerializer(serializers.ModelSerializer):
    headers = serializers.SerializerMethodField()
    health = serializers.SerializerMethodField()
    secrets = serializers.SerializerMethodField()

    class Meta:
        model = Endpoint
        fields = ["id", "url", "description", "event_types", "enabled", "disabled_reason",
                  "disabled_at", "headers", "health", "secrets", "created_at", "updated_at"]
        read_only_fields = fields

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
    def get_headers(self, obj: Endpoint) -> dict[str, str]:
        return headers_masked(obj.headers or {})

    @extend_schema_field(HealthSerializer)
    def get_health(self, obj: Endpoint) -> dict:
        return {"last_success_at": obj.last_success_at, "failing_since": obj.failing_since,
                "success_rate_24h": endpoint_success_rate(endpoint=obj)}

    @extend_schema_field(SecretInfoSerializer(many=True))
    def get_secrets(self, obj: Endpoint) -> list[dict]:
        return SecretInfoSerializer(secrets_summary(endpoint=obj), many=True).data


class EndpointCreatedSerializer(EndpointSerializer):
    secret = serializers.CharField(help_text="Shown only now. Receivers verify with it.")

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class RegenerateSecretSerializer(StrictSerializer):
    grace_period_seconds = serializers.IntegerField(
        required=False, min_value=0, max_value=7 * 24 * 3600,
        help_text="How long the previous secret keeps signing: 0 to 604800 seconds (7 days); "
                  "default WEBHOOK_SECRET_GRACE_SECONDS (24 h).")
    secret = serializers.CharField(required=False, trim_whitespace=False)


class RegeneratedSecretSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="Shown only now.")
    previous_secrets_valid_until = serializers.DateTimeField(allow_null=True)


class RecoverSerializer(StrictSerializer):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        if "until" in attrs and attrs["until"] <= attrs["since"]:
            raise serializers.ValidationError({"until": ["Must be later than 'since'."]})
        return attrs


class AttemptSerializer(serializers.ModelSerializer):
    message_id = serializers.CharField(source="message.webhook_id", read_only=True)
    event = serializers.UUIDField(source="message.event_id", read_only=True, allow_null=True)
    event_type = serializers.CharField(source="message.event_type", read_only=True)

    class Meta:
        model = WebhookAttempt
        fields = ["id", "message_id", "event", "event_type", "trigger", "started_at",
                  "finished_at", "latency_ms", "request_headers", "outcome", "status_code",
                  "response_excerpt", "error_class", "error", "next_attempt_at"]
        read_only_fields = fields


class AttemptResultSerializer(serializers.Serializer):
    """The answer to a test or a resend: how the endpoint answered, just now."""

    message_id = serializers.CharField()
    success = serializers.BooleanField()
    status_code = serializers.IntegerField(allow_null=True)
    latency_ms = serializers.IntegerField(allow_null=True)
    response_excerpt = serializers.CharField(allow_blank=True)
    error_class = serializers.CharField(allow_blank=True)
    error = serializers.CharField(allow_blank=True)
    attempt = AttemptSerializer()


class MessageSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="webhook_id", read_only=True)
    event = serializers.UUIDField(source="event_id", read_only=True, allow_null=True)
    payload = serializers.SerializerMethodField()

    class Meta:
        model = WebhookMessage
        fields = ["id", "event", "event_type", "trigger", "status", "attempt_count",
                  "last_attempt_at", "next_attempt_at", "succeeded_at", "last_error",
                  "created_at", "payload"]
        read_only_fields = fields

    @extend_schema_field({"type": "object"})
    def get_payload(self, obj: WebhookMessage) -> object:
        return message_data(obj)
