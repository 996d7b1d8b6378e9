"""Refuse, before any view sees them, URLs carrying a NUL character and request bodies
sent in chunks.

``%00`` in a path or query string decodes to a NUL, which PostgreSQL cannot
take in a text parameter: a lookup by such an id would fail as a server error
instead of a plain "no such thing". No valid URL of this site contains one, so
the request is answered 400 whatever it was for.

A chunked request body (``Transfer-Encoding: chunked``, no ``Content-Length``) is not
read by Django's request handling, so the view would see an empty body and answer for
missing fields; it is answered 411 instead, saying what to send.
"""

from __future__ import annotations

from django.http import JsonResponse


def refuse_nul_in_url(get_response):
    def middleware(request):
        if "\x00" in request.path or any(
                "\x00" in key or any("\x00" in value for value in values)
                for key, values in request.GET.lists()):
            return JsonResponse({"detail": "The URL contains a NUL character (%00), which is not "
                                           "allowed in any path or query parameter."}, status=400)
        return get_response(request)

    return middleware


def refuse_chunked_body(get_response):
    def middleware(request):
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not request.META.get("CONTENT_LENGTH"):
            return JsonResponse({"detail": "Send the body with a Content-Length header; a "
                                           "chunked request body is not read."}, status=411)
        return get_response(request)

    return middleware


def csrf_failure(request, reason=""):
    """A refused CSRF check answers the API in JSON, like every other API error."""
    from django.views.csrf import csrf_failure as page

    if request.path.startswith("/api/"):
        return JsonResponse({"detail": f"CSRF check failed: {reason}"}, status=403)
    return page(request, reason=reason)
