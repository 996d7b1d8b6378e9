"""The page behind an e-mail's unsubscribe link.

GET only shows what the link would do: mail scanners and link previews fetch
every URL in a message, so a GET must never change anything. POST does it —
from the page's button or as an RFC 8058 one-click request sent by the mail
client itself (body ``List-Unsubscribe=One-Click``, no cookies, no CSRF token;
the signed token is the authorisation, hence ``csrf_exempt``).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from notifications.unsubscribe.links import (
    CategoryCritical,
    UnsubscribeLinkInvalid,
    UnsubscribeTargetGone,
    unsubscribe_apply,
    unsubscribe_target,
)


def _problem(request: HttpRequest, heading: str, message: str, status: int) -> HttpResponse:
    return render(request, "unsubscribe/problem.html",
                  {"heading": heading, "message": message}, status=status)


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        subscriber, category = unsubscribe_target(token=token)
    except UnsubscribeLinkInvalid:
        return _problem(request, "This link is not valid",
                        "The unsubscribe link is incomplete or was changed. Use the link from "
                        "the e-mail as it is.", 400)
    except UnsubscribeTargetGone:
        return _problem(request, "This link no longer applies",
                        "The subscription it refers to does not exist any more.", 404)
    if request.method == "POST":
        try:
            unsubscribe_apply(subscriber=subscriber, category=category)
        except CategoryCritical as exc:
            return _problem(request, "These messages cannot be turned off", str(exc), 400)
        return render(request, "unsubscribe/done.html", {"category": category})
    return render(request, "unsubscribe/confirm.html",
                  {"category": category, "email": subscriber.email})
