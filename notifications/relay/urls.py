"""Routes of the URL-only relay under /post/ (the message may contain encoded slashes)."""

from __future__ import annotations

from django.urls import path

from notifications.relay.views import RelayPostView

urlpatterns = [
    path("channel/<str:channel>/msg/<path:message>", RelayPostView.as_view(), name="relay-post"),
    path("<str:token>/channel/<str:channel>/msg/<path:message>", RelayPostView.as_view(),
         name="relay-post-token"),
]
