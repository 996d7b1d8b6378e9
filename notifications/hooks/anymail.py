"""Receiver of Anymail's ``tracking`` signal: every ESP's webhook, normalised, lands here.

Anymail's views under ``/hooks/anymail/<esp>/tracking/`` verify the request
(basic auth from ``ANYMAIL["WEBHOOK_SECRET"]`` and the ESP's own signature
where it has one) before sending the signal; this module translates the event
and hands it to ``delivery_apply_email_tracking``. For ESPs that do not sign
their webhooks Anymail accepts them unauthenticated when no ``WEBHOOK_SECRET``
is set (with a warning); a forged bounce would then block a subscriber's
e-mail, so such events are ignored here.
"""

from __future__ import annotations

import logging

from django.conf import settings

from notifications.services.tracking import EmailTrackingReport, delivery_apply_email_tracking

logger = logging.getLogger(__name__)

# ESPs whose Anymail view always checks a signature (it refuses to run without the key).
_ALWAYS_SIGNED = {"Mailgun", "Postal", "MailerSend"}
# ESPs whose view checks a signature only when this ANYMAIL setting is present.
_SIGNED_WHEN_SET = {"Mandrill": "MANDRILL_WEBHOOK_KEY", "Resend": "RESEND_SIGNING_SECRET"}


def _authenticated(esp_name: str) -> bool:
    config = getattr(settings, "ANYMAIL", None) or {}
    if config.get("WEBHOOK_SECRET") or esp_name in _ALWAYS_SIGNED:
        return True
    setting = _SIGNED_WHEN_SET.get(esp_name)
    return bool(setting and config.get(setting))


def anymail_tracking_received(sender, event, esp_name: str = "", **kwargs) -> None:
    if not _authenticated(esp_name):
        logger.warning("%s tracking webhook ignored: set ANYMAIL_WEBHOOK_SECRET (basic auth) "
                       "so its requests are authenticated", esp_name or "ESP")
        return
    if not event.message_id:
        return
    delivery_apply_email_tracking(report=EmailTrackingReport(
        event_type=str(event.event_type or "unknown"), message_id=str(event.message_id),
        event_id=str(event.event_id or ""), occurred_at=event.timestamp,
        recipient=event.recipient or "", reject_reason=event.reject_reason or "",
        description=event.description or "", mta_response=event.mta_response or "",
        click_url=event.click_url or "", user_agent=event.user_agent or "", esp=esp_name or ""))
