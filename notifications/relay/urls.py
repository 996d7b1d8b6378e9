"""Routes of the URL-only relay under /post/ (the message may contain encoded slashes)."""

from __future__ import annotations

from django.urls import path

from notifications.relay.views import RelayPostView, empty_message

urlpatterns = [
    # An empty message is a mistake worth naming, not a missing page.
    path("channel/<str:channel>/msg/", empty_message),
    path("<str:token>/channel/<str:channel>/msg/", empty_message),
    path("channel/<str:channel>/msg/<path:message>", RelayPostView.as_view(), name="relay-post"),
    path("<str:token>/channel/<str:channel>/msg/<path:message>", RelayPostView.as_view(),
         name="relay-post-token"),
]
