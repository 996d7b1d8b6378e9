"""Routes of the REST API under /api/ (paths work with and without a trailing slash)."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from notifications.api import views

router = SimpleRouter()
# Both /api/events and /api/events/ work: integrators type either.
router.trailing_slash = "/?"
router.register("events", views.EventViewSet, basename="event")
router.register("deliveries", views.DeliveryViewSet, basename="delivery")
router.register("subscribers", views.SubscriberViewSet, basename="subscriber")
router.register("groups", views.RecipientGroupViewSet, basename="group")
router.register("categories", views.CategoryViewSet, basename="category")

urlpatterns = router.urls
