"""Integrator accounts and the API keys they call Clarion with."""

from __future__ import annotations

from django.db import IntegrityError, models, transaction

from notifications.models.audience import Directory, default_directory_id

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
    directory = models.ForeignKey(
        Directory, on_delete=models.PROTECT, related_name="applications", blank=True,
        help_text="The subscribers and groups this Application's keys see and change. Empty: a "
                  "directory of its own, named after the Application. Point several Applications "
                  "at one directory to let them share their people (one inbox per person).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if self.directory_id is None:
            self.directory = _own_directory(self.name)
        super().save(*args, **kwargs)


def directory_id_for(application: Application | None) -> int:
    """The directory an event or request of ``application`` resolves names in (staff's own
    triggers, with no Application, use the default directory)."""
    if application is None or application.directory_id is None:
        return default_directory_id()
    return application.directory_id


def _own_directory(name: str) -> Directory:
    """A new directory named after an Application (suffixed when the name is taken)."""
    for attempt in range(1, 100):
        candidate = name if attempt == 1 else f"{name} ({attempt})"
        try:
            with transaction.atomic():
                return Directory.objects.create(name=candidate[:100])
        except IntegrityError:
            continue
    raise IntegrityError(f"No free directory name for {name!r}.")


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
