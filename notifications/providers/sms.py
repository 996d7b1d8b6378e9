"""SMS through Twilio's Messages API, with the ``twilio`` SDK.

The sender is ``TWILIO_MESSAGING_SERVICE_SID`` (when set) or ``TWILIO_FROM_NUMBER``.
The recipient is checked with ``phonenumbers`` and sent as E.164; a number that
is not valid never reaches Twilio. The text (the template's short body, else its
text) has typographic look-alikes — curly quotes, dashes, ellipses, odd spaces —
replaced by their GSM-7 equivalents, so a message that can be GSM-7 is billed as
GSM-7 (160 characters a segment) rather than UCS-2 (70). Each message carries a
``StatusCallback`` to ``{PUBLIC_BASE_URL}/hooks/twilio/status?delivery=<id>``,
whose signed requests move the delivery to delivered, undelivered or failed.

Twilio's answers: 400-class errors about the recipient (21211 invalid ``To`` and
its kin) and every other 4xx except 429 are permanent; 429 and 5xx, and failures
to reach Twilio at all, are transient; so are refused credentials (20003, 401), which
are the operator's to fix rather than the recipient's fault. Twilio's error code is kept on the delivery.
"""

from __future__ import annotations

import logging
import unicodedata
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from requests import RequestException
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from notifications.models import Delivery
from notifications.providers.base import PermanentError, Provider, SendResult, TransientError
from notifications.providers.chat_text import chat_message, plain_with_title, truncate

logger = logging.getLogger(__name__)
# The SDK logs every request at INFO; the account SID in each URL is of no use in our logs.
_sdk_logger = logging.getLogger("notifications.providers.sms.twilio")
_sdk_logger.setLevel(logging.WARNING)

# Twilio accepts at most 1,600 characters in Body.
BODY_MAX = 1600
STATUS_CALLBACK_PATH = "/hooks/twilio/status"
# Error codes that say the recipient cannot get this message, whatever we retry.
RECIPIENT_ERRORS = {
    21211: "invalid 'To' phone number",
    21214: "'To' phone number cannot be reached",
    21217: "phone number does not appear to be valid",
    21401: "invalid phone number",
    21408: "sending to this region is not enabled on the account",
    21421: "phone number is invalid",
    21610: "the recipient has replied STOP and unsubscribed",
    21612: "the 'To' number cannot be reached from this sender",
    21614: "'To' number is not a valid mobile number",
    21635: "'To' number cannot receive this kind of message",
}
CREDENTIAL_ERRORS = {20003: "authentication failed", 20404: "account or resource not found"}

# GSM 03.38: the basic set plus the extension table (those cost two septets).
GSM7_CHARACTERS = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà" "^{}\\[~]|€\f")
_LOOKALIKES = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'",
    "\u0060": "'", "\u2039": "'", "\u203a": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"',
    "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-", "\u2022": "-",
    "\u2026": "...", "\t": " ", "\u02c6": "^", "\u02dc": "~",
    "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": "", "\u00ad": "",
}


def gsm7_normalise(text: str) -> str:
    """Replace typographic look-alikes with GSM-7 characters; keep everything else.

    Letters are never changed, so a text with, say, Cyrillic or emoji simply stays
    UCS-2 — only the punctuation that would needlessly push it there is replaced.
    """
    out = []
    for char in unicodedata.normalize("NFC", text):
        if char in GSM7_CHARACTERS:
            out.append(char)
        elif char in _LOOKALIKES:
            out.append(_LOOKALIKES[char])
        elif unicodedata.category(char) == "Zs":  # no-break, thin, ideographic … spaces
            out.append(" ")
        else:
            out.append(char)
    return "".join(out)


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_CHARACTERS for char in text)


def e164(address: str) -> str:
    """``address`` as E.164, or ``PermanentError`` naming why it is not a usable number."""
    from notifications.addresses import phone_validate

    try:
        return phone_validate(address)
    except ValidationError as exc:
        raise PermanentError(f"Not a valid recipient: {' '.join(exc.messages)}") from exc


def status_callback_url(delivery: Delivery) -> str | None:
    base = settings.PUBLIC_BASE_URL
    return f"{base}{STATUS_CALLBACK_PATH}?delivery={delivery.pk}" if base else None


@cache
def _client(account_sid: str, auth_token: str, base_url: str, timeout: float) -> Client:
    http = TwilioHttpClient(timeout=timeout, logger=_sdk_logger)
    client = Client(account_sid, auth_token, http_client=http)
    if base_url:
        client.api.base_url = base_url
    return client


def _record_error_code(delivery: Delivery, code: int | None) -> None:
    # The core records status and message; Twilio's own code is kept beside them.
    Delivery.objects.filter(pk=delivery.pk).update(error_code=str(code or ""))


class SmsProvider(Provider):
    channel = "sms"

    def is_configured(self) -> bool:
        return not self.configuration_problem()

    def configuration_problem(self) -> str:
        missing = [name for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")
                   if not getattr(settings, name)]
        if not (settings.TWILIO_FROM_NUMBER or settings.TWILIO_MESSAGING_SERVICE_SID):
            missing.append("TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
        return f"Set {' and '.join(missing)}." if missing else ""

    def client(self) -> Client:
        return _client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN,
                       settings.TWILIO_API_BASE_URL, float(settings.OUTBOUND_TOTAL_TIMEOUT))

    def message_fields(self, delivery: Delivery) -> dict[str, str]:
        """The Messages.json create fields, as the SDK's keyword arguments."""
        short = (delivery.rendered.get("short_body") or "").strip()
        # A short body is written for SMS; otherwise subject and text together.
        text = short or plain_with_title(chat_message(delivery.rendered, channel=self.channel))
        fields = {"to": e164(delivery.address),
                  "body": truncate(gsm7_normalise(text), BODY_MAX, marker="...")}
        if settings.TWILIO_MESSAGING_SERVICE_SID:
            fields["messaging_service_sid"] = settings.TWILIO_MESSAGING_SERVICE_SID
        else:
            fields["from_"] = settings.TWILIO_FROM_NUMBER
        if callback := status_callback_url(delivery):
            fields["status_callback"] = callback
        return fields

    def send(self, delivery: Delivery) -> SendResult:
        fields = self.message_fields(delivery)
        try:
            message = self.client().messages.create(**fields)
        except TwilioRestException as exc:
            _record_error_code(delivery, exc.code)
            raise self._classify(exc) from exc
        except (RequestException, TwilioException, OSError) as exc:
            raise TransientError(f"Twilio could not be reached: {type(exc).__name__}") from exc
        return SendResult(provider_message_id=message.sid or "",
                          delivered=message.status == "delivered")

    @staticmethod
    def _classify(exc: TwilioRestException) -> TransientError | PermanentError:
        code = exc.code
        said = " ".join(str(exc.msg or "").split())[:300]
        label = f"Twilio error {code}" if code else f"Twilio HTTP {exc.status}"
        if exc.status == 429 or code == 20429:
            return TransientError(f"{label}: too many requests ({said}).")
        if exc.status >= 500:
            return TransientError(f"{label}: Twilio failed ({said}).")
        if code in RECIPIENT_ERRORS:
            return PermanentError(f"{label}: {RECIPIENT_ERRORS[code]} ({said}).")
        if code in CREDENTIAL_ERRORS or exc.status == 401:
            # The operator's setting, not the recipient's fault: retried while it is fixed.
            what = CREDENTIAL_ERRORS.get(code, "not authorised")
            return TransientError(f"Twilio refused Clarion's credentials ({label}: {what}); "
                                  f"check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN ({said}).")
        return PermanentError(f"{label}: {said}")
