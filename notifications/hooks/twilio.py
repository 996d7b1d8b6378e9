"""``POST /hooks/twilio/status``: Twilio's message status callbacks, signature-checked.

Twilio signs each callback with the account's auth token (``X-Twilio-Signature``,
HMAC-SHA1 over the URL it called and the sorted form fields); the SDK's
``RequestValidator`` checks it against the URL Twilio was given, which is built
from ``PUBLIC_BASE_URL`` because behind a proxy the request's own host and
scheme may differ. A missing or wrong signature gets 403 and changes nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from notifications.services.sms_status import delivery_apply_sms_status


def _called_url(request: HttpRequest) -> str:
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL + request.get_full_path()
    return request.build_absolute_uri()


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    signature = request.headers.get("X-Twilio-Signature", "")
    token = settings.TWILIO_AUTH_TOKEN
    if not (token and signature and RequestValidator(token).validate(
            _called_url(request), request.POST, signature)):
        return JsonResponse({"detail": "Invalid or missing X-Twilio-Signature."}, status=403)
    delivery_apply_sms_status(
        delivery_id=request.GET.get("delivery"),
        message_sid=request.POST.get("MessageSid", ""),
        status=request.POST.get("MessageStatus", "").lower(),
        error_code=request.POST.get("ErrorCode", "")[:32],
    )
    # Twilio only needs a 2xx; an empty answer keeps it from parsing anything.
    return HttpResponse(status=204)
