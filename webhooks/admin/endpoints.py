"""Admin for webhook endpoints: configuration, health, attempts inline, and the actions
"send test", "regenerate secret", "expire old secrets now" and "recover failed".

A new secret (when an endpoint is added or a secret regenerated) is shown once,
on the page answering that request, never in a message, cookie or session.
Every write goes through the webhooks services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.safestring import SafeString

from notifications.admin.common import ReadOnlyInline, admin_url, pretty_json
from webhooks.admin.forms import EndpointForm, RecoverForm, RegenerateForm
from webhooks.models import Endpoint, WebhookAttempt
from webhooks.selectors import endpoint_success_rate, secrets_summary
from webhooks.services.endpoints import endpoint_create, endpoint_update
from webhooks.services.messages import endpoint_recover, endpoint_test_send
from webhooks.services.secrets import endpoint_secret_regenerate, endpoint_secrets_expire_old

INLINE_ATTEMPT_LIMIT = 50
# Request attribute carrying a new secret from save_model to response_add (a name, not a secret).
_SECRET_ATTRIBUTE = "_clarion_new_webhook_secret"  # noqa: S105


class RecentAttemptsFormSet(BaseInlineFormSet):
    def get_queryset(self) -> QuerySet[WebhookAttempt]:
        if not hasattr(self, "_recent"):
            self._recent = super().get_queryset()[:INLINE_ATTEMPT_LIMIT]
        return self._recent


class AttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    formset = RecentAttemptsFormSet
    fk_name = "endpoint"
    fields = ("started_at", "trigger", "outcome", "status_code", "error_class", "latency_ms",
              "message", "next_attempt_at")
    readonly_fields = fields
    ordering = ("-started_at", "-id")
    verbose_name_plural = f"attempts (newest {INLINE_ATTEMPT_LIMIT})"


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ("__str__", "application", "enabled", "disabled_reason", "last_success_at",
                    "failing_since", "created_at")
    list_filter = ("enabled", "disabled_reason", "application")
    list_select_related = ("application",)
    search_fields = ("url", "description", "application__name")
    readonly_fields = ("id", "disabled_reason", "disabled_at", "last_success_at", "failing_since",
                       "success_rate", "logs_link", "secret_dates", "created_at", "updated_at")
    view_on_site = False
    inlines = [AttemptInline]
    actions = ["send_test", "regenerate_secret", "expire_old_secrets", "recover_failed"]

    def get_fieldsets(self, request: HttpRequest, obj: Endpoint | None = None):
        config = ("application", "url", "description", "event_types_text", "headers", "enabled")
        if obj is None:
            return ((None, {"fields": config}),)
        return ((None, {"fields": ("id", *config)}),
                ("Health", {"fields": ("disabled_reason", "disabled_at", "last_success_at",
                                       "failing_since", "success_rate", "logs_link")}),
                ("Secrets", {"fields": ("secret_dates",)}),
                ("Timing", {"fields": ("created_at", "updated_at")}))

    @admin.display(description="success rate (24 h)")
    def success_rate(self, obj: Endpoint) -> str:
        rate = endpoint_success_rate(endpoint=obj)
        return "no attempts" if rate is None else f"{rate:.0%}"

    @admin.display(description="valid secrets")
    def secret_dates(self, obj: Endpoint) -> SafeString:
        rows = []
        for secret in secrets_summary(endpoint=obj):
            kind = "current" if secret.expires_at is None else (
                f"previous, signs until {secret.expires_at:%Y-%m-%d %H:%M} UTC")
            rows.append({"secret": kind, "created": f"{secret.created_at:%Y-%m-%d %H:%M} UTC"})
        return pretty_json(rows)

    def save_model(self, request: HttpRequest, obj: Endpoint, form: EndpointForm,
                   change: bool) -> None:
        values = form.cleaned_data
        if change:
            # ``obj`` already carries the form's values; the service compares with the row.
            stored = endpoint_update(
                endpoint=Endpoint.objects.get(pk=obj.pk), url=values["url"],
                description=values["description"], event_types=values["event_types_text"],
                headers=values["headers"], enabled=values["enabled"])
            for field in Endpoint._meta.concrete_fields:
                setattr(obj, field.attname, getattr(stored, field.attname))
            return
        created = endpoint_create(application=values["application"], url=values["url"],
                                  description=values["description"],
                                  event_types=values["event_types_text"],
                                  headers=values["headers"], enabled=values["enabled"])
        # The admin logs the addition and links to ``obj``: make it the created row.
        for field in Endpoint._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created.endpoint, field.attname))
        obj._state.adding, obj._state.db = False, created.endpoint._state.db
        setattr(request, _SECRET_ATTRIBUTE, created.secret)

    def response_add(self, request: HttpRequest, obj: Endpoint,
                     post_url_continue: str | None = None) -> HttpResponse:
        secret = getattr(request, _SECRET_ATTRIBUTE, None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        return self._secrets_page(request, "Webhook endpoint created",
                                  [{"endpoint": obj, "secret": secret, "valid_until": None}])

    def _secrets_page(self, request: HttpRequest, title: str,
                      rows: list[dict[str, Any]]) -> HttpResponse:
        for row in rows:
            row["change_url"] = admin_url(row["endpoint"])
        context = {**self.admin_site.each_context(request), "opts": self.opts, "title": title,
                   "rows": rows}
        response = TemplateResponse(request, "admin/webhooks/endpoint/secrets.html", context)
        add_never_cache_headers(response)  # the page holds the only copy of each secret
        return response

    def _form_page(self, request: HttpRequest, queryset: QuerySet[Endpoint], form, title: str,
                   action: str, explanation: str) -> HttpResponse:
        context = {**self.admin_site.each_context(request), "opts": self.opts, "title": title,
                   "form": form, "endpoints": list(queryset), "action": action,
                   "explanation": explanation, "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME}
        return TemplateResponse(request, "admin/webhooks/endpoint/action_form.html", context)

    @admin.action(description="Send a test message", permissions=["change"])
    def send_test(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        for endpoint in queryset:
            result = endpoint_test_send(endpoint=endpoint)
            attempt = result.attempt
            if result.succeeded:
                self.message_user(request, f"{endpoint}: HTTP {attempt.status_code} in "
                                           f"{attempt.latency_ms} ms.", messages.SUCCESS)
            else:
                self.message_user(request, f"{endpoint}: {result.summary}", messages.ERROR)

    @admin.action(description="Regenerate secret (previous one valid for a grace period)",
                  permissions=["change"])
    def regenerate_secret(self, request: HttpRequest, queryset: QuerySet[Endpoint]):
        form = RegenerateForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return self._form_page(request, queryset, form, "Regenerate webhook secrets",
                                   "regenerate_secret", "Each selected endpoint gets a new secret, "
                                   "shown once on the next page. Its previous secret keeps "
                                   "signing for the grace period, so receivers can switch over.")
        rows = []
        for endpoint in queryset:
            rotated = endpoint_secret_regenerate(
                endpoint=endpoint, grace_period_seconds=form.cleaned_data["grace_period_seconds"])
            rows.append({"endpoint": endpoint, "secret": rotated.secret,
                         "valid_until": rotated.previous_valid_until})
        return self._secrets_page(request, "New webhook secrets", rows)

    @admin.action(description="Expire old secrets now", permissions=["change"])
    def expire_old_secrets(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        expired = sum(endpoint_secrets_expire_old(endpoint=endpoint) for endpoint in queryset)
        self.message_user(request, f"Expired {expired} previous secret(s); only current secrets "
                                   "sign from now on.", messages.SUCCESS)

    @admin.action(description="Recover failed messages since…", permissions=["change"])
    def recover_failed(self, request: HttpRequest, queryset: QuerySet[Endpoint]):
        form = RecoverForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return self._form_page(request, queryset, form, "Recover failed webhook messages",
                                   "recover_failed", "Every failed message of the selected "
                                   "endpoints created in this period is sent again once, with "
                                   "its original webhook-id.")
        queued = sum(endpoint_recover(endpoint=endpoint, since=form.cleaned_data["since"],
                                      until=form.cleaned_data.get("until"))
                     for endpoint in queryset)
        self.message_user(request, f"Queued {queued} failed message(s) for resending.",
                          messages.SUCCESS)
        return None

    @admin.display(description="logs")
    def logs_link(self, obj: Endpoint) -> SafeString:
        url = reverse("admin:webhooks_webhookattempt_changelist")
        return format_html('<a href="{}?endpoint__id__exact={}">All attempts</a>', url, obj.pk)
