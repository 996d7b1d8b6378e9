"""Minting, checking and revoking API keys. Only a SHA-256 hash of each secret is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from notifications.models import ApiKey, Application
from notifications.models.applications import SCOPES

KEY_PREFIX = "clr_"
_PREFIX_LENGTH = len(KEY_PREFIX) + 8  # "clr_" + 8 hex digits, then "_" and the secret
# Writing last_used_at on every request would turn each read into a write;
# once a minute is precise enough to tell a live key from a dead one.
_LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class MintedKey:
    api_key: ApiKey
    secret: str  # the full key; shown once, never stored


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def scopes_validate(scopes: list[str]) -> list[str]:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValidationError(f"Unknown scope(s): {', '.join(unknown)}. Known: {', '.join(SCOPES)}.")
    return sorted(set(scopes))


def api_key_create(*, application: Application, name: str, scopes: list[str]) -> MintedKey:
    """Create a key and return it with its secret, which exists only in this return value."""
    prefix = KEY_PREFIX + secrets.token_hex(4)
    secret = f"{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(application=application, name=name, prefix=prefix,
                                    secret_hash=_hash(secret), scopes=scopes_validate(scopes))
    return MintedKey(api_key=api_key, secret=secret)


def api_key_authenticate(*, secret: str) -> ApiKey | None:
    """Return the live key matching ``secret``, or None (unknown, revoked, inactive app)."""
    prefix = secret[:_PREFIX_LENGTH]
    separator, rest = secret[_PREFIX_LENGTH:_PREFIX_LENGTH + 1], secret[_PREFIX_LENGTH + 1:]
    if not prefix.startswith(KEY_PREFIX) or separator != "_" or not rest:
        return None
    api_key = (ApiKey.objects.select_related("application")
               .filter(prefix=prefix, revoked_at__isnull=True, application__is_active=True)
               .first())
    if api_key is None or not hmac.compare_digest(api_key.secret_hash, _hash(secret)):
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > _LAST_USED_PRECISION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


def api_key_revoke(*, api_key: ApiKey) -> None:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
