"""One-click unsubscribe for e-mail (RFC 2369 ``List-Unsubscribe`` + RFC 8058 one-click).

Each e-mail to a subscriber about a (non-critical) category carries a link to
``PUBLIC_BASE_URL/unsubscribe/<token>/``. The token is signed with
``django.core.signing`` under its own salt and names the subscriber (row id
plus a digest of the external id, so a row id reused for someone else does
not match) and the category. It has no expiry: the link must work for as long
as the message sits in a mailbox. Rotating ``SECRET_KEY`` invalidates old
links unless the old key stays in ``SECRET_KEY_FALLBACKS``.

Following the link changes nothing (mail scanners fetch links); the POST —
from the confirmation page or straight from the mail client with the body
``List-Unsubscribe=One-Click`` — mutes that category on e-mail.
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from django.conf import settings
from django.core import signing
from django.urls import reverse

from notifications.models import Category, Channel, Delivery, Subscriber

SALT = "clarion.unsubscribe.v1"


class UnsubscribeLinkInvalid(Exception):
    """The token is malformed or its signature does not match."""


class UnsubscribeTargetGone(Exception):
    """The token is genuine but its subscriber or category no longer exists."""


class CategoryCritical(Exception):
    """Critical categories cannot be muted."""


def _external_digest(external_id: str) -> str:
    return hashlib.sha256(external_id.encode()).hexdigest()[:16]


def unsubscribe_token(*, subscriber: Subscriber, category: Category) -> str:
    return signing.dumps({"s": subscriber.pk, "x": _external_digest(subscriber.external_id),
                          "c": category.pk}, salt=SALT)


def unsubscribe_url(*, subscriber: Subscriber, category: Category) -> str:
    """The absolute link, or '' when ``PUBLIC_BASE_URL`` is not set."""
    base = settings.PUBLIC_BASE_URL
    if not base:
        return ""
    token = unsubscribe_token(subscriber=subscriber, category=category)
    return base + reverse("unsubscribe", kwargs={"token": token})


def unsubscribe_target(*, token: str) -> tuple[Subscriber, Category]:
    """The subscriber and category a token names; raise when it is forged or stale."""
    try:
        payload = signing.loads(token, salt=SALT)
        subscriber_id, digest, category_id = payload["s"], payload["x"], payload["c"]
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise UnsubscribeLinkInvalid("This unsubscribe link is not valid.") from exc
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    category = Category.objects.filter(pk=category_id).first()
    if (subscriber is None or category is None
            or _external_digest(subscriber.external_id) != digest):
        raise UnsubscribeTargetGone("This unsubscribe link no longer applies.")
    return subscriber, category


def unsubscribe_apply(*, subscriber: Subscriber, category: Category) -> None:
    """Mute ``category`` on e-mail for ``subscriber``; idempotent."""
    from inbox.models import Preference

    if category.critical:
        raise CategoryCritical(f"{category.name} is critical and cannot be unsubscribed from.")
    Preference.objects.update_or_create(subscriber=subscriber, category=category,
                                        channel=Channel.EMAIL, defaults={"enabled": False})


def list_unsubscribe_header(delivery: Delivery) -> dict[str, str]:
    """Headers to add to ``delivery``'s e-mail; empty when there is nothing to offer.

    The one-click link needs ``PUBLIC_BASE_URL``, a subscriber and a category
    that is not critical; ``CLARION_LIST_UNSUBSCRIBE_MAILTO`` adds a mailbox
    (and is all there is for raw group addresses).
    """
    entries: list[str] = []
    rule = delivery.rule
    category = rule.category if rule is not None else None
    if category is not None and category.critical:
        return {}
    link = ""
    if delivery.subscriber is not None and category is not None:
        link = unsubscribe_url(subscriber=delivery.subscriber, category=category)
    if link:
        entries.append(f"<{link}>")
    mailbox = getattr(settings, "CLARION_LIST_UNSUBSCRIBE_MAILTO", "")
    if mailbox:
        subject = quote(f"unsubscribe {delivery.recipient_key}")
        entries.append(f"<mailto:{mailbox}?subject={subject}>")
    if not entries:
        return {}
    headers = {"List-Unsubscribe": ", ".join(entries)}
    if link:
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers
