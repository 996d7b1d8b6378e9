"""Refuse URLs carrying a NUL character before any view sees them.

``%00`` in a path or query string decodes to a NUL, which PostgreSQL cannot
take in a text parameter: a lookup by such an id would fail as a server error
instead of a plain "no such thing". No valid URL of this site contains one, so
the request is answered 400 whatever it was for.
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
