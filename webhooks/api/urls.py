"""Routes under /api/webhooks/ (paths work with and without a trailing slash)."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from webhooks.api import views

router = SimpleRouter()
router.trailing_slash = "/?"
router.register("configurations", views.EndpointViewSet, basename="webhook-configuration")

urlpatterns = router.urls
