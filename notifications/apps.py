"""App config for the notifications core."""

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from anymail.signals import tracking

        from notifications.hooks.anymail import anymail_tracking_received

        # ESP tracking webhooks (delivered, bounced, opened, …) update e-mail deliveries.
        tracking.connect(anymail_tracking_received, dispatch_uid="clarion-anymail-tracking")
