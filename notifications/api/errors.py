"""One error shape for the API: DRF's JSON bodies, also for Django ``ValidationError``.

Services raise Django's ``ValidationError`` keyed by field; here it becomes a
400 whose body names the field, exactly like a serializer error.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from notifications.api.parsers import RequestTooLarge
from notifications.services.events import IdempotencyConflict


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        body = exc.message_dict if hasattr(exc, "error_dict") else {"detail": " ".join(exc.messages)}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge(f"The request body is larger than "
                              f"{settings.API_MAX_BODY_BYTES // 1024} KB.")
    if isinstance(exc, IdempotencyConflict):
        return Response({"idempotency_key": [str(exc)]}, status=status.HTTP_409_CONFLICT)
    return drf_exception_handler(exc, context)
