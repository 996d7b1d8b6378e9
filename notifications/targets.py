"""Credential-bearing targets: stored encrypted once, referred to everywhere by a reference.

An incoming-webhook URL (Slack, Teams, Mattermost) or an Apprise URL carries its
own credential. ``target_protect`` stores such a value in ``TargetSecret``
(encrypted at rest) and returns its reference, e.g.
``https://hooks.slack.com/••••••••Xy12 [ref:5d0c…]`` — the masked hint is what
staff see in the admin, the API and the delivery log; the digest (a keyed
HMAC, so equal URLs give equal references and uniqueness rules keep working)
finds the secret again. ``target_reveal`` turns a reference back into the URL
for the provider. Values that carry no credential (a Matrix room, a phone
number, a Mattermost channel id) pass through both unchanged.

Models call ``target_protect`` when they are saved, so no write path — admin,
API, bulk create, config loader — leaves the plain URL in a row.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from urllib.parse import urlsplit

from django.conf import settings

from notifications.fields import mask
from notifications.models.choices import Channel

_REFERENCE = re.compile(r"\[ref:(?P<digest>[0-9a-f]{24})\]$")
_HINT_HOST_MAX = 100


class UnknownTarget(LookupError):
    """A reference whose stored target no longer exists (or never did here)."""


def target_is_credential(*, channel: str, address: str) -> bool:
    """Whether ``address`` on ``channel`` is itself a credential (a webhook or Apprise URL)."""
    if channel in (Channel.SLACK, Channel.TEAMS, Channel.APPRISE):
        return True
    return channel == Channel.MATTERMOST and address.lower().startswith(("http://", "https://"))


def reference_digest(address: str) -> str | None:
    """The digest inside a reference, or None when ``address`` is not a reference."""
    found = _REFERENCE.search(address or "")
    return found.group("digest") if found else None


def _digest(channel: str, value: str) -> str:
    key = hashlib.sha256(b"clarion-target-reference:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, f"{channel}\x00{value}".encode(), hashlib.sha256).hexdigest()[:24]


def _hint(value: str) -> str:
    """Enough to recognise the target (scheme, web host, last characters), not to use it."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return mask(value)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https") and parts.hostname:
        rest = value.split(parts.netloc, 1)[-1]
        return f"{scheme}://{parts.hostname[:_HINT_HOST_MAX]}/{mask(rest)}"
    if scheme:
        # Apprise URLs often keep the token where a host would be: show the scheme only.
        return f"{scheme[:20]}://{mask(value)}"
    return mask(value)


def target_reference(*, channel: str, value: str) -> str:
    """The reference ``value`` gets on ``channel`` (pure: stores nothing)."""
    return f"{_hint(value)} [ref:{_digest(channel, value)}]"


def target_protect(*, channel: str, address: str) -> str:
    """Store a credential-bearing ``address`` encrypted and return its reference; return
    anything else (references included) unchanged."""
    from notifications.models.targets import TargetSecret

    if not address or not target_is_credential(channel=channel, address=address):
        return address
    if reference_digest(address):
        return address
    reference = target_reference(channel=channel, value=address)
    TargetSecret.objects.get_or_create(digest=reference_digest(reference),
                                       defaults={"channel": channel, "value": address})
    return reference


def target_reveal(*, channel: str, address: str) -> str:
    """The usable address behind ``address``: the stored URL for a reference, else itself.

    Raise ``UnknownTarget`` when the reference points at nothing stored here.
    """
    from notifications.models.targets import TargetSecret

    digest = reference_digest(address)
    if digest is None:
        return address
    secret = TargetSecret.objects.filter(digest=digest, channel=channel).first()
    if secret is None:
        raise UnknownTarget(unknown_target_message(channel=channel, address=address))
    return secret.value


def unknown_target_message(*, channel: str, address: str) -> str:
    return (f"The stored {channel} target {address!r} does not exist "
            "(it may have been created on another server); enter the URL again.")


def targets_reveal(*, channel: str, addresses) -> dict[str, str | None]:
    """``target_reveal`` for many addresses with one query: ``{address: usable address}``,
    None for a reference to nothing stored here."""
    from notifications.models.targets import TargetSecret

    digests = {address: reference_digest(address) for address in set(addresses)}
    stored = dict(TargetSecret.objects.filter(
        digest__in={d for d in digests.values() if d}, channel=channel).values_list("digest", "value"))
    return {address: address if digest is None else stored.get(digest)
            for address, digest in digests.items()}


def target_known(*, channel: str, address: str) -> bool:
    """Whether ``address`` is a reference to a target stored for ``channel``."""
    from notifications.models.targets import TargetSecret

    digest = reference_digest(address)
    return bool(digest) and TargetSecret.objects.filter(digest=digest, channel=channel).exists()


def channel_addresses_protect(addresses: dict | None) -> dict:
    """A subscriber's ``channel_addresses`` with every credential replaced by its reference."""
    if not isinstance(addresses, dict):
        return addresses  # type: ignore[return-value] — validation reports the shape
    return {channel: target_protect(channel=channel, address=value) if isinstance(value, str)
            else value for channel, value in addresses.items()}


def recipients_protect(recipients: list | None) -> list | None:
    """An event's ``to`` list with each inline credential target replaced by its reference."""
    if not isinstance(recipients, list):
        return recipients
    protected = []
    for entry in recipients:
        if isinstance(entry, dict) and set(entry) == {"channel", "address"} and isinstance(
                entry["address"], str) and isinstance(entry["channel"], str):
            entry = {**entry, "address": target_protect(channel=entry["channel"],
                                                        address=entry["address"])}
        elif isinstance(entry, dict) and len(entry) == 1:
            ((channel, address),) = entry.items()
            if isinstance(address, str) and channel in Channel.values:
                entry = {channel: target_protect(channel=channel, address=address)}
        protected.append(entry)
    return protected
