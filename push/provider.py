"""The ``push`` channel: one delivery per subscriber, sent to every enabled device.

Why one channel for four services: a rule's author and a person muting a category
think "push", not "APNs"; one delivery per subscriber keeps one template, one
preference switch and one row to watch, however many phones and browsers the
person has. Underneath, each device kind has its sender (``push.senders``).

For each attempt of a delivery, every enabled device that has not yet received
it is tried once (``DeviceAttempt`` rows say which did), so a retry never pushes
twice to a device that already has the message. The delivery's outcome:

* some device still failing for now → the delivery is retried (only those devices);
* otherwise, some device received it → sent;
* every device gone (or none registered) → ``skipped: no address``;
* devices only of kinds this server has no credentials for → ``skipped: not configured``;
* otherwise → failed, with each device's reason.
"""

from __future__ import annotations

from django.utils import timezone

from notifications.models import Delivery
from notifications.providers import (
    NoAddress,
    NotConfigured,
    PermanentError,
    Provider,
    SendResult,
    TransientError,
)
from push.content import push_message
from push.models import AttemptOutcome, Device, DeviceAttempt, DeviceKind
from push.read_links import read_token
from push.senders import apns, expo, fcm, webpush
from push.senders.base import DeviceResult
from push.services import devices_answered, devices_failed, devices_gone

SENDERS = {DeviceKind.WEBPUSH: webpush, DeviceKind.FCM: fcm, DeviceKind.APNS: apns,
           DeviceKind.EXPO: expo}


class PushProvider(Provider):
    channel = "push"
    addressed_by_subscriber = True

    def is_configured(self) -> bool:
        return any(sender.configured() for sender in SENDERS.values())

    def status_note(self) -> str:
        services = "; ".join(f"{DeviceKind(kind).label}: "
                             f"{'configured' if sender.configured() else 'not configured'}"
                             for kind, sender in SENDERS.items())
        enabled = Device.objects.filter(enabled=True).count()
        gone = Device.objects.filter(enabled=False).count()
        return (f"{services}. {enabled} device(s) registered, {gone} removed as gone. "
                f"Settings and device registration: docs/push.md.")

    def send(self, delivery: Delivery) -> SendResult:
        devices = list(Device.objects.filter(subscriber_id=delivery.subscriber_id, enabled=True)
                       .order_by("created_at"))
        if not devices:
            raise NoAddress("The subscriber has no push device (none registered, or every one "
                            "was removed as gone).")
        already = dict(DeviceAttempt.objects.filter(
            delivery=delivery, outcome=AttemptOutcome.SENT).values_list(
            "device_id", "provider_message_id"))
        waiting = [device for device in devices if device.pk not in already]
        if not waiting:
            return SendResult(provider_message_id=next(iter(already.values()), ""))
        message = push_message(delivery.rendered, delivery_id=delivery.pk,
                               event_type=delivery.event.event_type,
                               read_token=read_token(subscriber_id=delivery.subscriber_id,
                                                     event_id=delivery.event_id))
        results = self._send_by_kind(waiting, message, delivery)
        self._record(delivery, results)
        return self._outcome(results, already)

    def _send_by_kind(self, devices: list[Device], message, delivery: Delivery
                      ) -> list[tuple[Device, DeviceResult]]:
        results: list[tuple[Device, DeviceResult]] = []
        for kind in DeviceKind.values:
            group = [device for device in devices if device.kind == kind]
            if not group:
                continue
            sender = SENDERS.get(kind)
            if sender is None or not sender.configured():
                outcome = DeviceResult(AttemptOutcome.NOT_CONFIGURED,
                                       f"{DeviceKind(kind).label} is not configured on this "
                                       f"server (docs/push.md says which settings it needs).")
                results += [(device, outcome) for device in group]
                continue
            # A message over a service's size limit raises PermanentError for the delivery.
            results += zip(group, sender.send(group, message, delivery_id=delivery.pk),
                           strict=True)
        return results

    def _record(self, delivery: Delivery, results: list[tuple[Device, DeviceResult]]) -> None:
        now = timezone.now()
        DeviceAttempt.objects.bulk_create([
            DeviceAttempt(delivery=delivery, device=device, number=delivery.attempts,
                          outcome=result.outcome, status_code=result.status_code,
                          provider_message_id=result.message_id[:255], error=result.error, at=now)
            for device, result in results])
        devices_answered([d for d, r in results if r.outcome == AttemptOutcome.SENT], now=now)
        devices_gone([(d, r.error) for d, r in results if r.outcome == AttemptOutcome.GONE],
                     now=now)
        devices_failed([(d, r.error) for d, r in results
                        if r.outcome in (AttemptOutcome.RETRY, AttemptOutcome.FAILED)], now=now)

    @staticmethod
    def _outcome(results: list[tuple[Device, DeviceResult]], already: dict) -> SendResult:
        by_outcome: dict[str, list[tuple[Device, DeviceResult]]] = {}
        for device, result in results:
            by_outcome.setdefault(result.outcome, []).append((device, result))

        def reasons(outcome: str) -> str:
            return " ".join(f"{device}: {result.error}" for device, result in by_outcome[outcome])

        if AttemptOutcome.RETRY in by_outcome:
            waits = [r.retry_after for _, r in by_outcome[AttemptOutcome.RETRY] if r.retry_after]
            raise TransientError(reasons(AttemptOutcome.RETRY), retry_after=max(waits, default=None))
        sent = [r.message_id for _, r in by_outcome.get(AttemptOutcome.SENT, [])]
        if sent or already:
            return SendResult(provider_message_id=next(iter(sent), "") or
                              next(iter(already.values()), ""))
        if set(by_outcome) == {AttemptOutcome.GONE}:
            raise NoAddress(f"Every push device of the subscriber is gone. {reasons('gone')}")
        if AttemptOutcome.FAILED in by_outcome:
            raise PermanentError(reasons(AttemptOutcome.FAILED))
        raise NotConfigured(reasons(AttemptOutcome.NOT_CONFIGURED))
