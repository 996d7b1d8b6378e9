"""Unsubscribe headers for e-mail.

Until per-category preference links exist, a ``List-Unsubscribe`` header is
added only when ``CLARION_LIST_UNSUBSCRIBE_MAILTO`` names a mailbox that
handles unsubscribe requests; this function is the one place that will build
the signed one-click link (RFC 8058) when preferences arrive.
"""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings

from notifications.models import Delivery


def list_unsubscribe_header(delivery: Delivery) -> dict[str, str]:
    """Headers to add to ``delivery``'s e-mail; empty when unsubscribing is not set up."""
    mailbox = getattr(settings, "CLARION_LIST_UNSUBSCRIBE_MAILTO", "")
    if not mailbox:
        return {}
    subject = quote(f"unsubscribe {delivery.recipient_key}")
    return {"List-Unsubscribe": f"<mailto:{mailbox}?subject={subject}>"}
