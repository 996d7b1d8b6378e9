"""App config for the in-app inbox."""

from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "In-app inbox"
