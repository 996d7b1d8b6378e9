"""Connections registered through the push-server-compatible API."""

from __future__ import annotations

from django.db import models

from notifications.models import Application


class PushConnection(models.Model):
    """A browser session a backend registered for one of its users.

    ``user_id`` is the integrator's own user id (not necessarily a subscriber);
    ``connection_id`` is the random value the backend handed to the browser.
    """

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="push_connections")
    user_id = models.CharField(max_length=200)
    connection_id = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    # Set when the last socket that presented the pair closed (a dead client noticed by the
    # transport's heartbeat counts): the pair is no longer counted as a live session, and may
    # only be presented again within PUSH_RECONNECT_GRACE_SECONDS.
    disconnected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["application", "user_id", "connection_id"],
                                    name="unique_push_connection"),
        ]
        indexes = [models.Index(fields=["connection_id"], name="push_connection_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}/{self.connection_id}"
