"""Writes for the inbox: notifications, preferences, live pushes."""
