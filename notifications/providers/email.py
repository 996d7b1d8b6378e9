"""E-mail through Django's mail machinery: SMTP, any Anymail ESP, or the embedded outbox.

Each message has subject, a text part and (when the template has one) an HTML
alternative, and a ``Message-ID`` derived from the delivery id, so a retry
after a crash carries the same id and receiving systems can tell it is one
message.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from notifications.models import Delivery
from notifications.providers.base import PermanentError, Provider, SendResult, TransientError
from notifications.services.unsubscribe import list_unsubscribe_header

try:  # Anymail is installed, but its errors are only meaningful with an ESP backend.
    from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
except ImportError:  # pragma: no cover
    AnymailAPIError = AnymailRecipientsRefused = ()  # type: ignore[assignment,misc]


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

    def build_message(self, delivery: Delivery) -> EmailMultiAlternatives:
        content = delivery.rendered
        if not content.get("subject"):
            raise PermanentError("The e-mail template has no subject.")
        if not (content.get("text_body") or content.get("html_body")):
            raise PermanentError("The e-mail template has neither a text nor an HTML body.")
        headers = {"Message-ID": message_id_for(delivery)}
        unsubscribe = list_unsubscribe_header(delivery)
        if unsubscribe:
            headers.update(unsubscribe)
        message = EmailMultiAlternatives(
            subject=" ".join(content["subject"].split()),  # no header injection via newlines
            body=content.get("text_body", ""),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[delivery.address],
            headers=headers,
            connection=self._connection,
        )
        if content.get("html_body"):
            message.attach_alternative(content["html_body"], "text/html")
        return message

    def send(self, delivery: Delivery) -> SendResult:
        message = self.build_message(delivery)
        try:
            message.send()
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentError(f"The mail server refused the recipient: {exc.recipients}") from exc
        except smtplib.SMTPResponseException as exc:
            text = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
            if 400 <= exc.smtp_code < 500:
                raise TransientError(text) from exc
            raise PermanentError(text) from exc
        except (OSError, smtplib.SMTPException, TimeoutError) as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from exc
        except AnymailRecipientsRefused as exc:
            raise PermanentError(str(exc)) from exc
        except AnymailAPIError as exc:
            status = getattr(exc, "status_code", None) or 0
            if status == 429 or status >= 500 or status == 0:
                raise TransientError(str(exc)) from exc
            raise PermanentError(str(exc)) from exc
        esp_id = getattr(message, "anymail_status", None)
        provider_id = (getattr(esp_id, "message_id", None) if esp_id else None) or \
            message_id_for(delivery)
        return SendResult(provider_message_id=str(provider_id))
