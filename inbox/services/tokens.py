"""Inbox tokens: signed, expiring credentials that let one subscriber's browser reach its inbox.

The integrator's backend mints one with its API key and hands it to the
browser; it is valid for that subscriber only, for ``INBOX_TOKEN_TTL_SECONDS``.
Tokens are signed with ``SECRET_KEY`` (Django's signing), so nothing is stored;
bumping a subscriber's ``inbox_token_version`` would be the way to revoke — until
then, keep the lifetime short.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.utils import timezone

from notifications.models import Subscriber

_SALT = "clarion.inbox-token"


@dataclass(frozen=True)
class MintedToken:
    token: str
    expires_at: datetime


def inbox_token_mint(*, subscriber: Subscriber) -> MintedToken:
    ttl = settings.INBOX_TOKEN_TTL_SECONDS
    token = signing.dumps({"s": subscriber.pk, "x": subscriber.external_id}, salt=_SALT,
                          compress=True)
    return MintedToken(token=token, expires_at=timezone.now() + timedelta(seconds=ttl))


def inbox_token_subscriber(*, token: str) -> Subscriber | None:
    """The subscriber a valid, unexpired token names; None for anything else."""
    try:
        claims = signing.loads(token, salt=_SALT, max_age=settings.INBOX_TOKEN_TTL_SECONDS)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    # Both the row id and the external id must still match: a deleted and
    # re-created subscriber does not inherit old tokens.
    return Subscriber.objects.filter(pk=claims.get("s"), external_id=claims.get("x")).first()
