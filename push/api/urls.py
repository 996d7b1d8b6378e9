"""Device routes under /api/."""

from __future__ import annotations

from django.urls import path

from push.api import views

urlpatterns = [
    path("subscribers/<str:external_id>/devices", views.SubscriberDevicesView.as_view(),
         name="subscriber-devices"),
    path("subscribers/<str:external_id>/devices/<uuid:device_id>",
         views.SubscriberDeviceView.as_view(), name="subscriber-device"),
    path("notifications/devices", views.OwnDevicesView.as_view(), name="inbox-devices"),
    path("notifications/push-key", views.VapidKeyView.as_view(), name="push-key"),
    path("notifications/push-read", views.PushReadView.as_view(), name="push-read"),
]
