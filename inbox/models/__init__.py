"""Data model of the in-app inbox: notifications, preferences, quiet hours, push connections."""

from inbox.models.notifications import Level, Notification, PendingPush
from inbox.models.preferences import Preference, QuietHours
from inbox.models.push import PushConnection

__all__ = ["Level", "Notification", "PendingPush", "Preference", "PushConnection", "QuietHours"]
