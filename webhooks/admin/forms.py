"""Forms of the webhooks admin; every rule is the services' (URL, filter and header checks)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from webhooks.models import Endpoint
from webhooks.services.endpoints import endpoint_url_validate, event_types_validate
from webhooks.services.headers import headers_masked, headers_merge_masked, headers_validate
from webhooks.services.secrets import MAX_GRACE_SECONDS


def _field_errors(exc: ValidationError, field: str) -> ValidationError:
    return ValidationError(exc.message_dict.get(field, exc.messages) if hasattr(
        exc, "error_dict") else exc.messages)


class EndpointForm(forms.ModelForm):
    event_types_text = forms.CharField(
        label="Event types", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: exact ('order.shipped') or wildcard ('orders.*'). "
                  "Empty: every event type.")
    headers = forms.JSONField(
        required=False, initial=dict, widget=forms.Textarea(attrs={"rows": 3}),
        help_text='Extra request headers as a JSON object, e.g. {"X-Tenant": "acme"}. '
                  "Credential-like values are shown masked; leave a masked value as it is "
                  "to keep it.")

    class Meta:
        model = Endpoint
        fields = ("application", "url", "description", "enabled")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:  # (a new row has its UUID already)
            # In ``initial``, which the admin fills from the row: the stored headers never
            # reach the page, only their masked form.
            self.initial["event_types_text"] = "\n".join(self.instance.event_types or [])
            self.initial["headers"] = headers_masked(self.instance.headers or {})
            self.fields["application"].disabled = True  # an endpoint stays with its owner

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        if not self.instance._state.adding and url == self.instance.url:
            return url
        try:
            return endpoint_url_validate(url=url)
        except ValidationError as exc:
            raise _field_errors(exc, "url") from None

    def clean_event_types_text(self) -> list[str]:
        text = self.cleaned_data.get("event_types_text") or ""
        patterns = [part.strip() for line in text.splitlines() for part in line.split(",")]
        try:
            return event_types_validate(event_types=[p for p in patterns if p])
        except ValidationError as exc:
            raise _field_errors(exc, "event_types") from None

    def clean_headers(self) -> dict[str, str]:
        given = self.cleaned_data.get("headers") or {}
        if isinstance(given, dict) and not self.instance._state.adding:
            given = headers_merge_masked(stored=self.instance.headers or {}, given=given)
        try:
            return headers_validate(given)
        except ValidationError as exc:
            raise _field_errors(exc, "headers") from None


class RegenerateForm(forms.Form):
    grace_period_seconds = forms.IntegerField(
        min_value=0, max_value=MAX_GRACE_SECONDS, initial=86400,
        help_text="How long the previous secret keeps signing (0 to 604800 seconds).")


class RecoverForm(forms.Form):
    since = forms.DateTimeField(help_text="Resend every failed message created since then "
                                          "(YYYY-MM-DD HH:MM, UTC).")
    until = forms.DateTimeField(required=False, help_text="Optional end (exclusive).")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("since") and cleaned.get("until") and cleaned["until"] <= cleaned["since"]:
            self.add_error("until", "Must be later than 'since'.")
        return cleaned
