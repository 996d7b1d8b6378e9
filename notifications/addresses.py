"""What a valid address looks like on each channel, checked before anything is stored."""

from __future__ import annotations

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email

from notifications.models.audience import E164_VALIDATOR
from notifications.models.choices import Channel

_URL_CHANNELS = {Channel.SLACK, Channel.TEAMS}
_url = URLValidator(schemes=["http", "https"])
# Matrix identifiers: room ids are opaque after "!" (room version 12 drops ":server"), aliases
# and user ids are "#localpart:server" and "@localpart:server".
_MATRIX_ROOM_ID = re.compile(r"^![^\s]+$")
_MATRIX_NAMED = re.compile(r"^[#@][^\s:/]+:[A-Za-z0-9.\-\[\]:]+$")
# Mattermost's own ids are 26 lowercase letters and digits; compatible servers vary a little.
_MATTERMOST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def phone_validate(address: str) -> str:
    """Return ``address`` as E.164 when it is a valid phone number; raise ``ValidationError``."""
    E164_VALIDATOR(address)
    try:
        number = phonenumbers.parse(address, None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(f"{address!r} is not a phone number ({exc}).") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(f"{address!r} is not a valid phone number for its country code.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# Apprise schemes whose plugins reach their peer below Python's sockets (D-Bus, desktop
# notifiers, a USB light, the local syslog socket): the address policy cannot check where
# they go, so they are refused (notifications.http.socket_guard checks all the others).
APPRISE_UNCHECKABLE_SCHEMES = frozenset({
    "dbus", "kde", "qt", "gio", "glib", "gnome", "macosx", "windows", "blink1", "syslog"})


def _apprise_validate(address: str) -> None:
    import apprise  # loads its plugins; only needed when an Apprise target is entered

    if "://" not in address:
        raise ValidationError("An Apprise target is a URL such as 'tgram://token/chat'.")
    scheme = address.split("://", 1)[0].lower()
    if scheme in APPRISE_UNCHECKABLE_SCHEMES:
        raise ValidationError(f"Apprise's {scheme}:// talks to this machine's own services, "
                              f"which the outbound address policy cannot check; it is not "
                              f"allowed.")
    if apprise.Apprise.instantiate(address) is None:
        raise ValidationError("Apprise does not recognise this URL (unknown service or "
                              "missing parts).")


def _credential_validate(channel: str, address: str) -> None:
    """Webhook and Apprise targets: a stored reference, or the URL itself."""
    from notifications.targets import reference_digest, target_known

    if reference_digest(address):
        if not target_known(channel=channel, address=address):
            raise ValidationError("This stored target reference is unknown here; enter the URL.")
        return
    if channel == Channel.APPRISE:
        _apprise_validate(address)
    else:
        _url(address)


def address_validate(*, channel: str, address: str, field: str = "address",
                     staff: bool = True) -> None:
    """Raise ``ValidationError`` (keyed by ``field``) when ``address`` is not usable on ``channel``.

    ``staff=False`` for what an integrator's API key sends: Apprise URLs are staff's only.
    """
    if channel not in Channel.values:
        raise ValidationError({field: f"Unknown channel {channel!r}."})
    if channel == Channel.APPRISE and not staff:
        # Some Apprise plugins read local files named in the URL (key files) and a hundred
        # plugins are a large surface: staff enter these in the admin or a config file.
        raise ValidationError({field: "Apprise targets are set by staff (in the admin or a "
                                      "configuration file), not through the API."})
    if not isinstance(address, str) or not address.strip():
        raise ValidationError({field: f"An address is required for the {channel} channel."})
    if channel == Channel.WEBHOOK:
        # Webhooks go to endpoints an Application registers (signed, retried, logged),
        # never to an address on a group or a subscriber.
        raise ValidationError({field: "Webhooks are sent to registered endpoints "
                                      "(/api/webhooks/configurations), not to addresses."})
    try:
        if channel == Channel.EMAIL:
            validate_email(address)
        elif channel == Channel.SMS:
            phone_validate(address)
        elif channel in (Channel.SLACK, Channel.TEAMS, Channel.APPRISE):
            _credential_validate(channel, address)
        elif channel in _URL_CHANNELS:
            _url(address)
        elif channel == Channel.MATRIX and not (_MATRIX_ROOM_ID.match(address)
                                                or _MATRIX_NAMED.match(address)):
            raise ValidationError("A Matrix target is a room id (!…), an alias (#…:server) "
                                  "or a user id (@…:server).")
        elif channel == Channel.MATTERMOST:
            if address.lower().startswith(("http://", "https://")) or "[ref:" in address:
                _credential_validate(channel, address)
            elif not _MATTERMOST_ID.match(address):
                raise ValidationError("A Mattermost target is a channel id (such as "
                                      "4xp9fdt77pncbef59f4k1qe83o) or an incoming-webhook URL.")
    except ValidationError as exc:
        raise ValidationError({field: f"Not a valid {channel} address: {' '.join(exc.messages)}"}
                              ) from exc
