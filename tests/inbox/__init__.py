"""Tests of the inbox app: notifications, preferences, live streams and the push-server API."""
