"""Integrator accounts and the API keys they call Clarion with."""

from __future__ import annotations

from django.db import models

# Scopes an API key can hold; views name the scope each method needs.
SCOPES = {
    "events:write": "Trigger events",
    "events:read": "Read events and deliveries",
    "subscribers:read": "Read subscribers",
    "subscribers:write": "Create, change and delete subscribers",
    "groups:read": "Read recipient groups",
    "groups:write": "Create, change and delete recipient groups",
    "categories:read": "Read categories",
    "inbox-tokens:write": "Mint inbox tokens for subscribers",
    "push": "Push messages to a user's live sessions",
    "webhooks:read": "Read webhook endpoints and their logs",
    "webhooks:write": "Create, change, test and delete webhook endpoints",
    "relay:post": "Post through the URL-only relay",
}


class Application(models.Model):
    """An integrator: the system (or team) whose API keys trigger events."""

    name = models.CharField(max_length=100, unique=True)
    contact_email = models.EmailField(blank=True, help_text="Told when something needs attention.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """A credential for the REST API; only the SHA-256 hash of the secret is kept."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
