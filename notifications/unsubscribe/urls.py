"""Routes of the unsubscribe link under /unsubscribe/."""

from __future__ import annotations

from django.urls import path

from notifications.unsubscribe.views import unsubscribe

urlpatterns = [
    path("<str:token>/", unsubscribe, name="unsubscribe"),
]
