"""Routes of provider callbacks under /hooks/."""

from __future__ import annotations

from django.urls import path

from notifications.hooks.twilio import twilio_status

urlpatterns = [
    path("twilio/status", twilio_status, name="twilio-status"),
]
