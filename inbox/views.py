"""The end user's inbox page (``/inbox/``) and the login and logout around it.

The page is a thin server-rendered shell: the list, the live updates and the
preferences form are driven by ``static/inbox/page.js`` through the embeddable
client ``static/inbox/inbox.js``, against the same REST API and WebSocket any
other app would use. Only a logged-in user linked to a subscriber has an
inbox; anyone else is sent to log in, or told plainly why there is nothing here.
"""

from __future__ import annotations

import zoneinfo
from functools import cache

from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

from inbox.auth import subscriber_for_user
from notifications.models import Channel


@require_safe
@ensure_csrf_cookie  # inbox.js reads the cookie to send X-CSRFToken on its writes
def inbox_page(request: HttpRequest) -> HttpResponse:
    """``GET /inbox/``: the caller's inbox, or a redirect to log in, or a 403 page."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("inbox-login"))
    subscriber = subscriber_for_user(request.user)
    if subscriber is None:
        return render(request, "inbox/forbidden.html", status=403)
    return render(request, "inbox/page.html", {
        "subscriber": subscriber,
        "channel_labels": dict(Channel.choices),
        # Exactly the zones the server accepts, so the list cannot offer one it refuses.
        "timezones": _timezones(),
    })


@cache
def _timezones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


class InboxLoginView(auth_views.LoginView):
    """Sign-in for end users; lands on the inbox unless a safe ``?next=`` says otherwise."""

    template_name = "inbox/login.html"
    redirect_authenticated_user = True
    next_page = "inbox-page"


class InboxLogoutView(auth_views.LogoutView):
    """POST-only sign-out (Django refuses GET logouts), back to the login form."""

    next_page = "inbox-login"


@cache
def _service_worker_source() -> bytes:
    from django.contrib.staticfiles import finders

    return open(finders.find("inbox/sw.js"), "rb").read()  # noqa: SIM115 — read once, cached


@require_safe
def service_worker(request: HttpRequest) -> HttpResponse:
    """The inbox's service worker, served under /inbox/ so that its scope is the inbox page
    (a worker served from /static/ could only control /static/)."""
    response = HttpResponse(_service_worker_source(), content_type="text/javascript")
    response["Cache-Control"] = "no-cache"  # browsers check for a new worker on each visit
    return response
