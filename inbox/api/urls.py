"""Inbox routes under /api/ — exactly the paths inbox clients of other tools expect."""

from __future__ import annotations

from django.urls import path

from inbox.api import stream, tokens, views

urlpatterns = [
    path("notifications", views.NotificationListView.as_view(), name="inbox-list"),
    path("notifications/mark-as-read", views.MarkAsReadView.as_view(), name="inbox-mark-read"),
    path("notifications/mark-all-as-read", views.MarkAllAsReadView.as_view(),
         name="inbox-mark-all-read"),
    path("notifications/delete", views.DeleteView.as_view(), name="inbox-delete"),
    path("notifications/unread-count", views.UnreadCountView.as_view(), name="inbox-unread-count"),
    path("notifications/test", views.TestNotificationView.as_view(), name="inbox-test"),
    path("notifications/preferences", views.PreferencesView.as_view(), name="inbox-preferences"),
    path("notifications/stream", stream.sse_stream, name="inbox-stream"),
    path("notifications/poll", stream.long_poll, name="inbox-poll"),
    path("subscribers/<str:external_id>/inbox-token", tokens.InboxTokenView.as_view(),
         name="inbox-token"),
]
