"""App config for push notifications to phones and browsers.

The app joins the core the way any channel may: ``ready()`` registers the ``push``
provider with the provider registry, and the core never imports this app by name.
"""

from django.apps import AppConfig


class PushConfig(AppConfig):
    name = "push"
    verbose_name = "Push notifications"

    def ready(self) -> None:
        from notifications.providers import provider_register

        provider_register("push", "push.provider.PushProvider")
