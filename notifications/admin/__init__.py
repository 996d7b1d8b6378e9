"""Django admin for the notifications core, one module per concern.

Importing this package registers every ModelAdmin (Django's admin autodiscovery
imports it at start-up): applications and API keys, subscribers and groups,
categories and rules with their templates and previews, events and deliveries.
The admin pages call services for every write and hold no business rules.
"""

from __future__ import annotations

from notifications.admin import (  # noqa: F401 — imported for their registrations
    applications,
    audience,
    channels,
    dashboard,
    deliveries,
    events,
    message_templates,
    recurring,
    relay,
    rules,
)
