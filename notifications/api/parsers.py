"""A JSON parser that refuses oversized bodies with 413 before reading them."""

from __future__ import annotations

import io

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


class LimitedJSONParser(JSONParser):
    """Parse JSON of at most ``API_MAX_BODY_BYTES``; a larger body is a 413, not a 400."""

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
        return super().parse(io.BytesIO(body), media_type, parser_context)
