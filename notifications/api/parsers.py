"""The API's JSON parser: bounded size, bounded nesting, and only text every database stores.

A body is refused before anything is written when it is larger than
``API_MAX_BODY_BYTES`` (413), nested deeper than ``API_MAX_JSON_DEPTH`` (400),
or holds a NUL character or an unpaired UTF-16 surrogate (``"\\ud800"``) in any
key or string (400, naming where). PostgreSQL cannot store NUL in text or
JSON, and an unpaired surrogate cannot be encoded as UTF-8: either would fail
later, half-way through writing, or — on SQLite — be stored and then break
every page that lists it.
"""

from __future__ import annotations

import io

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


class LimitedJSONParser(JSONParser):
    """Parse JSON within the limits above; a larger body is a 413, anything else a 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        message = f"The request body is larger than {limit // 1024} KB."
        if declared and declared.isdigit() and int(declared) > limit:
            raise RequestTooLarge(message)
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise RequestTooLarge(message)
        if not body.strip():
            raise exceptions.ParseError("The request body is empty; send a JSON object.")
        depth = settings.API_MAX_JSON_DEPTH
        try:
            data = super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:  # the decoder's own guard, far beyond the limit
            raise exceptions.ParseError(_too_deep(depth, "")) from None
        problem = json_problem(data, max_depth=depth)
        if problem:
            raise exceptions.ParseError(problem)
        return data


def json_problem(data: object, *, max_depth: int) -> str | None:
    """What makes decoded JSON unacceptable (too deep, a NUL, an unpaired surrogate), or None.

    Walked with a stack, not recursion, so no nesting can exhaust Python's own.
    """
    stack: list[tuple[object, str, int]] = [(data, "", 1)]
    while stack:
        value, where, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > max_depth:
                return _too_deep(max_depth, where)
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    if problem := _text_problem(key, where or "the body", "a key in "):
                        return problem
                    path = f"{where}.{key}" if where else key
                else:
                    path = f"{where}[{key}]"
                stack.append((item, path, depth + 1))
        elif isinstance(value, str):
            if problem := _text_problem(value, where or "the body", ""):
                return problem
    return None


def _text_problem(text: str, where: str, prefix: str) -> str | None:
    if "\x00" in text:
        return f"{prefix}{where} contains a NUL character (\\u0000), which is not allowed."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return (f"{prefix}{where} contains an unpaired surrogate (such as \\ud800), which is "
                "not a character; send text as UTF-8 or as paired \\u escapes.")
    return None


def _too_deep(limit: int, where: str) -> str:
    at = f" (at {where})" if where else ""
    return f"The JSON is nested deeper than {limit} levels{at}."
