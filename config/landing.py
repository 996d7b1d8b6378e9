"""The pages a person meets first: what is running at ``/``, the favicon, and the stand-in
for a shop's order page that the demo's notifications link to."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.templatetags.static import static


def landing(request: HttpRequest) -> HttpResponse:
    """Say what is running and where each part lives."""
    return render(request, "site/landing.html", {
        "embedded": settings.CLARION_EMBEDDED,
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
    })


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers ask for /favicon.ico on every page that names no icon (the admin's)."""
    return HttpResponseRedirect(static("inbox/icon.svg"))


def demo_order(request: HttpRequest, order_id: str) -> HttpResponse:
    """Where the demo's "Open →" links go: a shop's own order page would be here."""
    return render(request, "site/demo_order.html", {"order_id": order_id})
