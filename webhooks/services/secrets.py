"""Secret rotation: a new secret now, the previous ones kept valid for a grace period.

During the grace period every message is signed with each valid secret, so a
receiver still configured with the old secret keeps verifying while it switches
to the new one; "expire old secrets now" ends the grace period early. Secrets
past their expiry are deleted at the next rotation or by the periodic task.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from webhooks.models import Endpoint, EndpointSecret
from webhooks.services.signing import secret_generate, secret_key

MAX_GRACE_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class RotatedSecret:
    secret: str  # shown once, in the answer to the regenerate call
    previous_valid_until: datetime | None  # None when nothing was kept valid


def grace_validate(*, grace_period_seconds: object) -> int:
    if grace_period_seconds is None:
        return settings.WEBHOOK_SECRET_GRACE_SECONDS
    if isinstance(grace_period_seconds, bool) or not isinstance(grace_period_seconds, int) or not (
            0 <= grace_period_seconds <= MAX_GRACE_SECONDS):
        raise ValidationError({"grace_period_seconds": [
            f"Whole seconds from 0 to {MAX_GRACE_SECONDS} (7 days)."]})
    return grace_period_seconds


def endpoint_secret_regenerate(*, endpoint: Endpoint, grace_period_seconds: int | None = None,
                               secret: str | None = None,
                               now: datetime | None = None) -> RotatedSecret:
    """Make a new current secret; the previous one signs too until the grace period ends."""
    grace = grace_validate(grace_period_seconds=grace_period_seconds)
    if secret is not None:
        secret_key(secret)
    moment = now or timezone.now()
    valid_until = moment + timedelta(seconds=grace)
    new_secret = secret or secret_generate()
    with transaction.atomic():
        # Serialises rotations of one endpoint, so it never has two current secrets.
        Endpoint.objects.select_for_update().filter(pk=endpoint.pk).first()
        secrets = EndpointSecret.objects.filter(endpoint=endpoint)
        secrets.filter(expires_at__lte=moment).delete()
        # A secret already in grace keeps its own, earlier end.
        secrets.filter(expires_at__gt=valid_until).update(expires_at=valid_until)
        kept = secrets.filter(expires_at__isnull=True).update(expires_at=valid_until)
        if not grace:
            secrets.filter(expires_at__lte=moment).delete()
        EndpointSecret.objects.create(endpoint=endpoint, secret=new_secret)
    return RotatedSecret(secret=new_secret, previous_valid_until=valid_until if kept and grace
                         else None)


def endpoint_secrets_expire_old(*, endpoint: Endpoint) -> int:
    """End the grace period now: only the current secret signs from here on."""
    deleted, _ = EndpointSecret.objects.filter(endpoint=endpoint, expires_at__isnull=False).delete()
    return deleted


def secrets_purge_expired(*, now: datetime | None = None) -> int:
    """Delete secrets whose grace period is over (they sign nothing any more)."""
    deleted, _ = EndpointSecret.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
