"""E-mail through Django's mail machinery: SMTP, any Anymail ESP, or the embedded outbox.

Each message has subject, a text part and (when the template has one) an HTML
alternative, and a ``Message-ID`` derived from the delivery id, so a retry
after a crash carries the same id and receiving systems can tell it is one
message.

A batch goes over one SMTP session; through an Anymail ESP with batch sending,
the deliveries of a batch with the same words are one API call, each recipient
still getting a message of their own (Anymail's ``merge_headers`` carry the
Message-ID and unsubscribe link, ``merge_metadata`` the delivery id).
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from anymail.backends.base import AnymailBaseBackend
from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused, AnymailUnsupportedFeature
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from notifications.models import Delivery
from notifications.providers.base import (
    PermanentError,
    Provider,
    ProviderError,
    SendResult,
    TransientError,
)
from notifications.unsubscribe.links import list_unsubscribe_header


def message_id_for(delivery: Delivery) -> str:
    return f"<{delivery.pk}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"


class EmailProvider(Provider):
    channel = "email"

    def __init__(self) -> None:
        self._connection = None

    @contextmanager
    def batch(self) -> Iterator[None]:
        # One SMTP session for the whole batch instead of one per message.
        self._connection = get_connection()
        try:
            yield
        finally:
            # A failed QUIT must not mask the outcome of the messages already sent.
            with suppress(Exception):
                self._connection.close()
            self._connection = None

    def headers_for(self, delivery: Delivery) -> dict[str, str]:
        """The headers that differ per recipient: Message-ID and one-click unsubscribe."""
        return {"Message-ID": message_id_for(delivery), **list_unsubscribe_header(delivery)}

    def build_message(self, delivery: Delivery, *, to: list[str] | None = None,
                      headers: dict[str, str] | None = None) -> EmailMultiAlternatives:
        content = delivery.rendered
        if not content.get("subject"):
            raise PermanentError("The e-mail template has no subject.")
        if not (content.get("text_body") or content.get("html_body")):
            raise PermanentError("The e-mail template has neither a text nor an HTML body.")
        message = EmailMultiAlternatives(
            subject=" ".join(content["subject"].split()),  # no header injection via newlines
            body=content.get("text_body", ""),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=to or [delivery.address],
            # RFC 3834: machine-sent, so auto-responders (vacation replies) stay quiet.
            headers={"Auto-Submitted": "auto-generated",
                     **(self.headers_for(delivery) if headers is None else headers)},
            connection=self._connection,
        )
        if content.get("html_body"):
            message.attach_alternative(content["html_body"], "text/html")
        return message

    def send(self, delivery: Delivery) -> SendResult:
        message = self.build_message(delivery)
        try:
            message.send()
        except Exception as exc:  # noqa: BLE001 — classified; anything else is re-raised
            raise _classified(exc) from exc
        esp_id = getattr(message, "anymail_status", None)
        provider_id = (getattr(esp_id, "message_id", None) if esp_id else None) or \
            message_id_for(delivery)
        return SendResult(provider_message_id=str(provider_id))

    # --- batch sending through an ESP ---------------------------------------------------

    def send_batch(self, deliveries: list[Delivery]) -> dict[object, SendResult | ProviderError]:
        """Through an Anymail ESP that can batch, deliveries with the same words go out as one
        API call (a separate message per recipient, with its own Message-ID and unsubscribe
        headers); otherwise one message after another over one connection."""
        with self.batch():
            if not _esp_batches(self._connection):
                return {delivery.pk: self.send_one(delivery) for delivery in deliveries}
            outcomes: dict[object, SendResult | ProviderError] = {}
            for group in _same_words_groups(deliveries):
                if len(group) == 1 or not _esp_batches(self._connection):
                    outcomes.update({d.pk: self.send_one(d) for d in group})
                else:
                    outcomes.update(self._send_merged(group))
            return outcomes

    def _send_merged(self, group: list[Delivery]) -> dict[object, SendResult | ProviderError]:
        try:
            message = self.build_message(group[0], to=[d.address for d in group], headers={})
        except PermanentError as exc:
            return {delivery.pk: exc for delivery in group}
        message.merge_headers = {d.address: self.headers_for(d) for d in group}
        message.merge_metadata = {d.address: {"clarion_delivery": str(d.pk)} for d in group}
        try:
            message.send()
        except AnymailUnsupportedFeature:
            # This ESP cannot batch these messages (e.g. only with its own templates).
            _BATCHLESS.add(type(self._connection))
            return {delivery.pk: self.send_one(delivery) for delivery in group}
        except Exception as exc:  # noqa: BLE001 — classified; anything else is re-raised
            error = _classified(exc)
            return {delivery.pk: error for delivery in group}
        recipients = message.anymail_status.recipients
        outcomes: dict[object, SendResult | ProviderError] = {}
        for delivery in group:
            status = recipients.get(delivery.address)
            if status is None or status.status in ("rejected", "invalid"):
                outcomes[delivery.pk] = PermanentError(
                    f"The ESP refused the recipient ({status.status if status else 'unknown'}).")
            elif status.status == "failed":
                outcomes[delivery.pk] = TransientError("The ESP could not send to the recipient.")
            else:
                outcomes[delivery.pk] = SendResult(
                    provider_message_id=str(status.message_id or message_id_for(delivery)))
        return outcomes


# ESP backends that refused a batch: sent one by one from then on, in this process.
_BATCHLESS: set[type] = set()
# The smallest batch any ESP Anymail batches for accepts (Mailjet: 50 messages per call).
ESP_BATCH_MAX = 50


def _esp_batches(connection) -> bool:
    return isinstance(connection, AnymailBaseBackend) and type(connection) not in _BATCHLESS


def _same_words_groups(deliveries: list[Delivery]) -> list[list[Delivery]]:
    """Deliveries with identical rendered words, each address at most once per group (a batch
    send keys its per-recipient parts by address), at most ``ESP_BATCH_MAX`` per group."""
    groups: list[list[Delivery]] = []
    open_groups: dict[tuple, list[Delivery]] = {}
    for delivery in deliveries:
        content = delivery.rendered or {}
        key = (content.get("subject"), content.get("text_body"), content.get("html_body"))
        group = open_groups.get(key)
        if group is None or len(group) >= ESP_BATCH_MAX or any(
                d.address.lower() == delivery.address.lower() for d in group):
            group = open_groups[key] = []
            groups.append(group)
        group.append(delivery)
    return groups


def _classified(exc: Exception) -> ProviderError:
    """What a failed send means: worth retrying or not. Re-raise anything unexpected."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = "; ".join(f"{address}: {code} {_said(said)}"
                            for address, (code, said) in exc.recipients.items())
        return PermanentError(f"The mail server refused the recipient ({refused}).")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        # The operator's setting, not the recipient's fault: retried while it is fixed.
        return TransientError(f"The SMTP server rejected the login ({exc.smtp_code} "
                              f"{_said(exc.smtp_error)}); check the user and password in "
                              f"EMAIL_URL.")
    if isinstance(exc, smtplib.SMTPResponseException):
        text = f"SMTP {exc.smtp_code}: {_said(exc.smtp_error)}"
        return TransientError(text) if 400 <= exc.smtp_code < 500 else PermanentError(text)
    if isinstance(exc, OSError | smtplib.SMTPException | TimeoutError):
        return TransientError(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, AnymailRecipientsRefused):
        return PermanentError(str(exc))
    if isinstance(exc, AnymailAPIError):
        status = getattr(exc, "status_code", None) or 0
        if status in (401, 403):
            return TransientError(f"The e-mail service refused Clarion's credentials (HTTP "
                                  f"{status}); check the ANYMAIL_* API key.")
        if status == 429 or status >= 500 or status == 0:
            return TransientError(str(exc))
        return PermanentError(str(exc))
    raise exc


def _said(text: bytes | str) -> str:
    """A server's words as text (smtplib hands them over as bytes)."""
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
