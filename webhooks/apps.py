"""App config for outgoing webhooks.

The webhook channel's provider lives here (``webhooks.provider``) and joins the core
through the provider registry in ``ready()``, as every channel outside the core does.
"""

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Outgoing webhooks"

    def ready(self) -> None:
        from notifications.providers import provider_register

        provider_register("webhook", "webhooks.provider.WebhookProvider")
