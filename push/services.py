"""Registering and removing devices, and what an attempt's outcome does to a device."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from notifications.models import Subscriber
from push.models import Device, token_digest
from push.tokens import device_fields_check


@transaction.atomic
def device_register(*, subscriber: Subscriber, kind: str, token: str, p256dh: str = "",
                    auth: str = "", apns_topic: str = "", apns_environment: str = "",
                    label: str = "") -> tuple[Device, bool]:
    """Add the device, or take it over when its token is known in the subscriber's directory
    (a phone that changed hands, a browser re-subscribing); return it and whether it is new.
    A device taken over is enabled again with its new keys."""
    fields = device_fields_check(kind, token, p256dh=p256dh, auth=auth, apns_topic=apns_topic,
                                 apns_environment=apns_environment)
    device = (Device.objects.select_for_update()
              .filter(directory_id=subscriber.directory_id, kind=fields["kind"],
                      token_digest=token_digest(fields["token"])).first())
    created = device is None
    device = device or Device(directory_id=subscriber.directory_id)
    for name, value in fields.items():
        setattr(device, name, value)
    device.subscriber = subscriber
    device.label = label or device.label
    device.enabled, device.disabled_reason = True, ""
    device.save()
    return device, created


def device_remove(*, subscriber: Subscriber, device_id=None, token: str | None = None) -> bool:
    """Forget one of the subscriber's devices, by id or by token; return whether one was."""
    devices = Device.objects.filter(subscriber=subscriber)
    if device_id is not None:
        devices = devices.filter(pk=device_id)
    elif token:
        devices = devices.filter(token_digest=token_digest(token.strip()))
    else:
        return False
    deleted, _ = devices.delete()
    return bool(deleted)


def devices_gone(gone: list[tuple[Device, str]], *, now: datetime) -> None:
    """The push service said these tokens are dead: never try them again. (One statement
    each: every one has its own reason, and dead tokens are few.)"""
    for device, why in gone:
        Device.objects.filter(pk=device.pk).update(
            enabled=False, disabled_reason=why[:300], last_error=why, last_error_at=now)


def devices_answered(devices: list[Device], *, now: datetime) -> None:
    Device.objects.filter(pk__in=[d.pk for d in devices]).update(last_success_at=now)


def devices_failed(failures: list[tuple[Device, str]], *, now: datetime) -> None:
    for device, error in failures:
        Device.objects.filter(pk=device.pk).update(last_error=error, last_error_at=now)
