"""Routes for the inbox web page, mounted at ``/inbox/``."""

from __future__ import annotations

from django.urls import path

from inbox import views

urlpatterns = [
    path("", views.inbox_page, name="inbox-page"),
    path("sw.js", views.service_worker, name="inbox-service-worker"),
    path("login/", views.InboxLoginView.as_view(), name="inbox-login"),
    path("logout/", views.InboxLogoutView.as_view(), name="inbox-logout"),
]
