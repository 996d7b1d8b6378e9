"""What a valid address looks like on each channel, checked before anything is stored."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email

from notifications.models.audience import E164_VALIDATOR
from notifications.models.choices import Channel

_URL_CHANNELS = {Channel.WEBHOOK, Channel.SLACK, Channel.TEAMS}
_url = URLValidator(schemes=["http", "https"])


def address_validate(*, channel: str, address: str, field: str = "address") -> None:
    """Raise ``ValidationError`` (keyed by ``field``) when ``address`` is not usable on ``channel``."""
    if channel not in Channel.values:
        raise ValidationError({field: f"Unknown channel {channel!r}."})
    if not isinstance(address, str) or not address.strip():
        raise ValidationError({field: f"An address is required for the {channel} channel."})
    try:
        if channel == Channel.EMAIL:
            validate_email(address)
        elif channel == Channel.SMS:
            E164_VALIDATOR(address)
        elif channel in _URL_CHANNELS:
            _url(address)
        elif channel == Channel.MATRIX and address[0] not in "!#@":
            raise ValidationError("A Matrix target is a room id (!…), an alias (#…:server) "
                                  "or a user id (@…:server).")
        elif channel == Channel.APPRISE and "://" not in address:
            raise ValidationError("An Apprise target is a URL such as 'tgram://token/chat'.")
        elif channel == Channel.MATTERMOST and address.startswith("http"):
            _url(address)
    except ValidationError as exc:
        raise ValidationError({field: f"Not a valid {channel} address: {' '.join(exc.messages)}"}
                              ) from exc
