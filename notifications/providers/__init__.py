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


@cache
def provider_for(channel: str) -> Provider | None:
    """The provider instance for ``channel``, or None when the channel has none."""
    path = REGISTRY.get(channel)
    return import_string(path)() if path else None


__all__ = ["REGISTRY", "NotConfigured", "PermanentError", "Provider", "ProviderError", "SendResult",
           "TransientError", "provider_for"]
