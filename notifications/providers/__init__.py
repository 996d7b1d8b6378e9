"""Channel providers, one module per channel, looked up by channel name.

The registry holds dotted paths and imports a provider only when its channel
is first used, so a channel's optional dependencies cost nothing until then.
Channels that live in their own app (in-app: ``inbox``; webhooks: ``webhooks``;
push: ``push``) register themselves from their app's ``ready()`` with
``provider_register``, so adding a channel is adding an app. A channel with no
provider registered reports ``skipped: not configured`` on each delivery instead
of pretending to send.
"""

from __future__ import annotations

from functools import cache

from django.utils.module_loading import import_string

from notifications.providers.base import (
    NoAddress,
    NotConfigured,
    PermanentError,
    Provider,
    ProviderError,
    SendResult,
    TransientError,
)

REGISTRY: dict[str, str] = {
    "email": "notifications.providers.email.EmailProvider",
    "sms": "notifications.providers.sms.SmsProvider",
    "matrix": "notifications.providers.matrix.MatrixProvider",
    "mattermost": "notifications.providers.mattermost.MattermostProvider",
    "slack": "notifications.providers.slack.SlackProvider",
    "teams": "notifications.providers.teams.TeamsProvider",
    "apprise": "notifications.providers.apprise.AppriseProvider",
}


def provider_register(channel: str, dotted_path: str) -> None:
    """Add a channel's provider from outside the core (an app's ``ready()``), so a new
    channel is a new app rather than an edit here."""
    REGISTRY.setdefault(channel, dotted_path)
    provider_for.cache_clear()
    subscriber_addressed_channels.cache_clear()


@cache
def provider_for(channel: str) -> Provider | None:
    """The provider instance for ``channel``, or None when the channel has none."""
    path = REGISTRY.get(channel)
    return import_string(path)() if path else None


@cache
def subscriber_addressed_channels() -> frozenset[str]:
    """Channels whose address is the subscriber's external id (``addressed_by_subscriber``)."""
    return frozenset(channel for channel in REGISTRY
                     if getattr(provider_for(channel), "addressed_by_subscriber", False))


__all__ = ["REGISTRY", "NoAddress", "NotConfigured", "PermanentError", "Provider", "ProviderError",
           "SendResult", "TransientError", "provider_for", "provider_register",
           "subscriber_addressed_channels"]
