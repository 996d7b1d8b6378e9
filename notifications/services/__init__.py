"""Writes: every change to notifications data goes through a function here."""
