"""Top-level URL map: the landing page, admin, the REST API with its schema and docs, and health."""

from __future__ import annotations

from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from django.views.defaults import page_not_found
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import landing
from inbox.api import push_urls


def health(_request):
    """Liveness probe for load balancers; touches nothing."""
    return JsonResponse({"status": "ok"})


def not_found(request, exception=None):
    """JSON 404 for the API (integrators parse it); Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


handler404 = not_found

urlpatterns = [
    path("", landing.landing, name="landing"),
    path("favicon.ico", landing.favicon),
    path("demo/orders/<str:order_id>", landing.demo_order, name="demo-order"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include(push_urls.reserved_urlpatterns)),
    path("api/", include("inbox.api.urls")),
    path("api/", include("push.api.urls")),
    path("api/webhooks/", include("webhooks.api.urls")),
    path("api/", include("notifications.api.urls")),
    path("api/", include("inbox.api.push_urls")),
    path("inbox/", include("inbox.urls")),
    path("healthz", health, name="health"),
    path("hooks/anymail/", include("anymail.urls")),
    path("hooks/", include("notifications.hooks.urls")),
    path("unsubscribe/", include("notifications.unsubscribe.urls")),
    path("post/", include("notifications.relay.urls")),
]
