"""Channel providers, one module per channel, looked up by channel name.

The registry holds dotted paths and imports a provider only when its channel
is first used, so a channel's optional dependencies cost nothing until then.
A channel with no provider registered here reports ``skipped: not configured``
on each delivery instead of pretending to send.
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
    "webhook": "notifications.providers.webhook.WebhookProvider",
    "inapp": "notifications.providers.inapp.InAppProvider",
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
