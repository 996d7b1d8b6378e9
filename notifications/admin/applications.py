"""Admin for integrators and their API keys.

A new key is minted by ``api_key_create`` and its secret is shown exactly once,
on the page rendered in answer to the "add" form; it is never put in a message,
a cookie or the session, and only its SHA-256 hash is stored. Existing keys show
their prefix, scopes, last use and revocation; the secret hash never appears.
Revoking is an admin action that calls ``api_key_revoke``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.safestring import SafeString

from notifications.admin.common import ReadOnlyInline, admin_url
from notifications.models import ApiKey, Application
from notifications.models.applications import SCOPES
from notifications.services.api_keys import api_key_create, api_key_revoke

# Name of the request attribute that carries the new secret from save_model to
# response_add within one request (the attribute name, not a secret).
_SECRET_ATTRIBUTE = "_clarion_minted_api_key_secret"  # noqa: S105


class ApiKeyInline(ReadOnlyInline):
    model = ApiKey
    fields = ("name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ("name", "contact_email", "is_active", "directory", "live_keys", "created_at")
    list_filter = ("is_active", "directory")
    list_select_related = ("directory",)
    search_fields = ("name", "contact_email")
    readonly_fields = ("created_at", "add_key_link")
    fields = ("name", "contact_email", "is_active", "directory", "created_at", "add_key_link")
    inlines = [ApiKeyInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Application]:
        return super().get_queryset(request).annotate(
            live_key_count=Count("api_keys", filter=Q(api_keys__revoked_at__isnull=True)))

    @admin.display(description="live keys", ordering="live_key_count")
    def live_keys(self, obj: Application) -> int:
        return obj.live_key_count

    @admin.display(description="API keys")
    def add_key_link(self, obj: Application) -> SafeString | str:
        if obj.pk is None:
            return "Save the application first, then add keys to it."
        url = reverse("admin:notifications_apikey_add")
        return format_html('<a class="addlink" href="{}?application={}">Add an API key</a>',
                           url, obj.pk)


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=list(SCOPES.items()), widget=forms.CheckboxSelectMultiple, required=False,
        help_text="What this key may do. A key without scopes can authenticate but do nothing.")

    class Meta:
        model = ApiKey
        fields = ("application", "name", "scopes")

    def clean_scopes(self) -> list[str]:
        return sorted(self.cleaned_data["scopes"])


class RevokedFilter(admin.SimpleListFilter):
    title = "revoked"
    parameter_name = "revoked"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Revoked"), ("no", "Live")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> QuerySet[ApiKey]:
        if self.value() == "yes":
            return queryset.filter(revoked_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(revoked_at__isnull=True)
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ("name", "application", "prefix", "scope_list", "created_at", "last_used_at",
                    "revoked")
    list_filter = (RevokedFilter, "application")
    list_select_related = ("application",)
    search_fields = ("name", "prefix", "application__name")
    actions = ["revoke_keys"]

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        if obj is None:
            return ["application", "name", "scopes"]
        return ["application", "name", "prefix", "scopes", "created_at", "last_used_at",
                "revoked_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        if obj is None:
            return []
        # Moving a key to another application would move its idempotency scope too.
        return ["application", "prefix", "created_at", "last_used_at", "revoked_at"]

    def has_change_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        # A revoked key is history: it can be looked at, not edited back to life.
        if obj is not None and obj.is_revoked:
            return False
        return super().has_change_permission(request, obj)

    @admin.display(description="scopes")
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes) or "-"

    @admin.display(description="revoked", boolean=True, ordering="revoked_at")
    def revoked(self, obj: ApiKey) -> bool:
        return obj.is_revoked

    def save_model(self, request: HttpRequest, obj: ApiKey, form: forms.ModelForm,
                   change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        minted = api_key_create(application=obj.application, name=obj.name, scopes=obj.scopes)
        # The admin goes on to log the addition and answer with ``obj``, so it
        # becomes the stored key (prefix, hash, id) rather than a second copy.
        for field in ApiKey._meta.concrete_fields:
            setattr(obj, field.attname, getattr(minted.api_key, field.attname))
        obj._state.adding = False
        obj._state.db = minted.api_key._state.db
        # Kept on this request only, for response_add below; nothing persists it.
        setattr(request, _SECRET_ATTRIBUTE, minted.secret)

    def response_add(self, request: HttpRequest, obj: ApiKey,
                     post_url_continue: str | None = None) -> HttpResponse:
        secret = getattr(request, _SECRET_ATTRIBUTE, None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "API key created",
            "api_key": obj,
            "secret": secret,
            "change_url": admin_url(obj),
            "add_url": f"{reverse('admin:notifications_apikey_add')}"
                       f"?application={obj.application_id}",
        }
        response = TemplateResponse(request, "admin/notifications/apikey/created.html", context)
        # The page holds the only copy of the secret: no browser or proxy may keep it.
        add_never_cache_headers(response)
        return response

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        revoked = 0
        for api_key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(api_key=api_key)
            revoked += 1
        already = queryset.count() - revoked
        text = f"Revoked {revoked} API key(s)."
        if already:
            text += f" {already} already revoked."
        self.message_user(request, text, messages.SUCCESS)
