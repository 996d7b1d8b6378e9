"""Data model of the in-app inbox: notifications, preferences, quiet hours, push connections."""

from inbox.models.notifications import Level, Notification
from inbox.models.preferences import Preference, QuietHours
from inbox.models.push import PushConnection

__all__ = ["Level", "Notification", "Preference", "PushConnection", "QuietHours"]
