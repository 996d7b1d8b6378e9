"""App config for the in-app inbox.

The in-app channel's provider lives here (``inbox.provider``) and joins the core through
the provider registry in ``ready()``, as every channel outside the core does.
"""

from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "In-app inbox"

    def ready(self) -> None:
        from notifications.providers import provider_register

        provider_register("inapp", "inbox.provider.InAppProvider")
