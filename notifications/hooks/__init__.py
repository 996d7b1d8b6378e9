"""Endpoints that providers call back: signed delivery reports from the outside world."""
