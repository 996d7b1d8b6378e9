"""The contract every channel provider keeps.

A provider turns one claimed delivery (whose ``rendered`` content is already
filled in) into one call to the outside world. ``send`` returns a
``SendResult`` or raises ``TransientError`` (worth retrying, optionally after
``retry_after`` seconds) or ``PermanentError`` (retrying cannot help). Nothing
else may escape: the pipeline treats any other exception as a bug, logs it and
retries the delivery as if it were transient.
"""

from __future__ import annotations

import logging
import random
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

    from notifications.models import Delivery

logger = logging.getLogger(__name__)


class ProviderError(Exception):
    """Base of the two outcomes a provider may raise."""


class TransientError(ProviderError):
    """The call failed for now (timeout, 5xx, rate limit); try again later."""

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(ProviderError):
    """The call can never succeed as it is (bad address, rejected credentials)."""


class NoAddress(ProviderError):
    """The recipient has nowhere to receive this channel after all (every device is gone):
    recorded as skipped, not failed."""


class NotConfigured(ProviderError):
    """This delivery needs server settings the channel lacks (recorded as skipped, not failed)."""


def backoff_delay(*, attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff with ±20% jitter, never sooner than the provider asked."""
    from django.conf import settings

    base = settings.DELIVERY_RETRY_BASE_SECONDS * (2 ** max(attempts - 1, 0))
    delay = min(base, settings.DELIVERY_RETRY_MAX_SECONDS) * random.uniform(0.8, 1.2)
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.DELIVERY_RETRY_MAX_SECONDS))
    return delay


@dataclass(frozen=True)
class SendResult:
    """What the provider said: its own message id and whether delivery is already confirmed."""

    provider_message_id: str = ""
    delivered: bool = False


class Provider:
    """One channel. Subclasses set ``channel`` and implement ``send``."""

    channel: str = ""
    #: Whether deliveries need a MessageTemplate (a webhook sends the raw event instead).
    needs_template: bool = True
    #: Whether a subscriber's address on this channel is the subscriber itself (their
    #: external id): the provider finds where to send (an inbox, devices) when it sends.
    addressed_by_subscriber: bool = False

    def endpoints_for(self, event) -> list[tuple[str, str]] | None:
        """For channels addressed to configured endpoints rather than people (webhooks).

        Return ``[(recipient_key, address), …]`` — one delivery each, whatever the
        rule's audience — or None (the default) for channels that reach the
        rule's recipients.
        """
        return None

    def retry_delay(self, *, attempts: int, retry_after: float | None) -> float | None:
        """Seconds to wait after a transient failure, or None to give up (the delivery fails).

        ``attempts`` counts the attempts made so far, the failed one included;
        ``retry_after`` is the ``TransientError``'s. The default is the core's
        exponential backoff (``DELIVERY_RETRY_*``) up to ``DELIVERY_MAX_ATTEMPTS``
        attempts; a channel with a retry schedule of its own overrides this.
        """
        from django.conf import settings

        if attempts >= settings.DELIVERY_MAX_ATTEMPTS:
            return None
        return backoff_delay(attempts=attempts, retry_after=retry_after)

    def is_configured(self) -> bool:
        """Return False when server-level settings for this channel are missing."""
        return True

    def status_note(self) -> str:
        """One line for the admin's Channels page about a channel that takes no test message
        there (empty: nothing to say)."""
        return ""

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Wrap a batch of sends (e.g. to reuse one SMTP connection); default does nothing."""
        yield

    #: Whether ``send_bulk`` is implemented; the pipeline then hands over whole batches.
    sends_in_bulk: bool = False

    def send_bulk(self, deliveries: list[Delivery]) -> dict[object, SendResult | ProviderError]:
        """Send many deliveries in one go (e.g. one INSERT for all inbox rows).

        Return ``{delivery.pk: SendResult or the ProviderError for that delivery}``
        with an entry for every delivery; called inside a transaction.
        """
        raise NotImplementedError

    def send(self, delivery: Delivery) -> SendResult:
        """Send ``delivery``; return a ``SendResult`` or raise ``TransientError`` / ``PermanentError``."""
        raise NotImplementedError

    #: Whether ``send_uniform`` is implemented (PostgreSQL only).
    sends_uniform: bool = False

    def send_uniform(self, delivery_ids: list, rendered: dict, *, event, rule
                     ) -> dict[object, SendResult]:
        """Send the same ``rendered`` words to every delivery in ``delivery_ids`` (all of one
        event and rule, locked by the caller's transaction) without a model object per
        delivery; return ``{delivery pk: SendResult}`` for each one sent."""
        raise NotImplementedError

    #: Whether a batch's sends may run at once (HTTP calls whose ``send`` touches no database
    #: once ``batch_prepare`` has run), limited per host by ``host_of``.
    sends_concurrently: bool = False

    def batch_prepare(self, deliveries: list[Delivery]) -> dict[object, ProviderError]:
        """Before a batch is sent, on the calling thread: load what ``send`` needs with a few
        queries for the whole batch; return ``{delivery.pk: error}`` for those that cannot
        be sent at all."""
        return {}

    def host_of(self, delivery: Delivery) -> str:
        """The host ``delivery`` will be sent to (for the per-host concurrency limit)."""
        return ""

    def send_batch(self, deliveries: list[Delivery]) -> dict[object, SendResult | ProviderError]:
        """Send a claimed batch; return ``{delivery.pk: SendResult or ProviderError}``.

        Sends one after another inside ``batch()`` (one SMTP session), or — for
        ``sends_concurrently`` channels — from a thread pool, at most
        ``OUTBOUND_PER_HOST_CONCURRENCY`` requests to one host at a time.
        """
        from notifications.http.concurrent import run_per_host

        outcomes: dict[object, SendResult | ProviderError] = dict(self.batch_prepare(deliveries))
        ready = [delivery for delivery in deliveries if delivery.pk not in outcomes]
        if self.sends_concurrently:
            results = run_per_host(ready, self.send_one, self.host_of)
        else:
            with self.batch():
                results = [self.send_one(delivery) for delivery in ready]
        outcomes.update(zip((delivery.pk for delivery in ready), results, strict=True))
        return outcomes

    def send_one(self, delivery: Delivery) -> SendResult | ProviderError:
        """``send``, with every outcome returned instead of raised."""
        try:
            return self.send(delivery)
        except ProviderError as exc:
            return exc
        except Exception as exc:  # noqa: BLE001 — a provider bug must not strand the delivery
            logger.exception("provider %s raised unexpectedly for delivery %s",
                             self.channel, delivery.pk)
            return TransientError(f"Unexpected {type(exc).__name__} in the {self.channel} provider.")
