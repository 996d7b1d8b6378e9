"""Writes for the push-server-compatible API: registering connections, pushing, expiring.

A backend registers a random connection id for one of its users; the browser
that was handed that id presents it on ``/ws/push/`` and joins the user's
group. A push is one ``group_send`` to that group, so every registered session
of the user receives it. Registrations belong to an Application: the same user
id under another Application is another user.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from inbox.live.publisher import live_send_now
from inbox.models import PushConnection
from inbox.services.live import push_user_group
from notifications.models import Application

#: Longest user id / connection id accepted (the model columns' size).
PUSH_ID_MAX_LENGTH = PushConnection._meta.get_field("connection_id").max_length

#: A registration not used by a browser for this long is deleted by ``push_connections_expire``.
PUSH_CONNECTION_MAX_IDLE = timedelta(days=30)

#: The frame every registered session receives for one push.
PUSH_FRAME_TYPE = "push"


#: What a socket is told when its ids are not usable ones.
PUSH_ID_ERROR = (f"userId and connectionId must be non-empty strings of at most {PUSH_ID_MAX_LENGTH} "
                 "characters")


def push_id_or_none(value: Any) -> str | None:
    """A pair member as a socket sent it, as a string; None when it is no usable id.

    Numbers are accepted because clients send them (``emit('register', 42, …)``).
    """
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and 0 < len(value) <= PUSH_ID_MAX_LENGTH:
        return value
    return None


def _validate_ids(*, user_id: str, connection_id: str) -> None:
    errors: dict[str, list[str]] = {}
    for field, value in (("user_id", user_id), ("connection_id", connection_id)):
        if not isinstance(value, str) or not value:
            errors[field] = ["Must be a non-empty string."]
        elif len(value) > PUSH_ID_MAX_LENGTH:
            errors[field] = [f"Must be at most {PUSH_ID_MAX_LENGTH} characters."]
        elif "\x00" in value:
            # PostgreSQL refuses NUL in text columns; refuse it here as a 400, not a 500.
            errors[field] = ["Must not contain NUL characters."]
    if errors:
        raise ValidationError(errors)


def push_connection_register(*, application: Application, user_id: str,
                             connection_id: str) -> PushConnection:
    """Register ``connection_id`` as a session of ``user_id``; registering it again is harmless.

    Raise ``ValidationError`` (keyed ``user_id`` / ``connection_id``) for an
    empty or over-long id. Registering refreshes ``last_seen_at`` so a
    registration the backend keeps renewing never expires.
    """
    _validate_ids(user_id=user_id, connection_id=connection_id)
    connection, _ = PushConnection.objects.update_or_create(
        application=application, user_id=user_id, connection_id=connection_id,
        defaults={"last_seen_at": timezone.now(), "disconnected_at": None})
    return connection


def _reconnect_grace() -> timedelta:
    return timedelta(seconds=settings.PUSH_RECONNECT_GRACE_SECONDS)


def push_connection_seen(*, user_id: str, connection_id: str) -> list[int]:
    """Mark the registrations of (user_id, connection_id) as in use; return their Application ids.

    Called when a socket presents the pair. The socket does not say which
    Application it belongs to, so every active Application that registered the
    pair is returned; each of them authorised whoever holds it. An empty list
    means the pair is unknown — or its socket closed longer ago than the
    reconnect grace — and the socket must receive nothing.
    """
    try:
        _validate_ids(user_id=user_id, connection_id=connection_id)
    except ValidationError:
        return []
    now = timezone.now()
    registrations = PushConnection.objects.filter(
        Q(disconnected_at__isnull=True) | Q(disconnected_at__gte=now - _reconnect_grace()),
        user_id=user_id, connection_id=connection_id, application__is_active=True)
    application_ids = sorted(set(registrations.values_list("application_id", flat=True)))
    if application_ids:
        registrations.update(last_seen_at=now, disconnected_at=None)
    return application_ids


def push_session_groups(*, user_id: str, connection_id: str) -> list[str]:
    """The live groups a socket presenting (user_id, connection_id) joins; [] for an unknown pair.

    Marks the pair's registrations in use (``push_connection_seen``); shared by
    the plain WebSocket and the Socket.IO doors, so both admit exactly the same.
    """
    return [push_user_group(application_id, user_id) for application_id in
            push_connection_seen(user_id=user_id, connection_id=connection_id)]


def push_connection_closed(*, user_id: str, connection_id: str) -> int:
    """Record that the socket holding the pair closed; return how many registrations it ends.

    The registration stops counting as a live session at once (``push_send``'s
    answer); a client that reconnects within the grace period (Socket.IO does,
    after a network blip) presents the pair again and is let back in.
    """
    return PushConnection.objects.filter(
        user_id=user_id, connection_id=connection_id, disconnected_at__isnull=True,
    ).update(disconnected_at=timezone.now())


def push_send(*, application: Application, user_id: str, message: Any) -> int:
    """Send ``message`` to every registered session of ``user_id``; return how many are registered.

    The count is of registrations whose socket has not closed: ones the backend
    just made (the browser is on its way) and ones a socket holds open; a socket
    whose client died is dropped from it once the transport's heartbeat notices
    (``push_connection_closed``).

    Sent after commit: at once when no transaction is open (the API view),
    later when a caller pushes from inside a transaction that may roll back.
    A push is stored nowhere, so when it is sent at once and the live layer
    refuses it (Redis down), ``LiveDeliveryUnavailable`` says so instead of a
    silent loss — the caller can retry.
    """
    registered = PushConnection.objects.filter(application=application, user_id=user_id,
                                               disconnected_at__isnull=True).count()
    if registered:
        batch = [(push_user_group(application.pk, user_id),
                  {"type": PUSH_FRAME_TYPE, "message": message})]
        taken: list[bool] = []
        transaction.on_commit(lambda: taken.append(live_send_now(batch)))
        if taken == [False]:
            raise LiveDeliveryUnavailable()
    return registered


class LiveDeliveryUnavailable(Exception):
    """The live layer (Redis) did not take a push; nothing was delivered."""


def push_connections_expire(*, older_than: timedelta = PUSH_CONNECTION_MAX_IDLE) -> int:
    """Delete registrations neither renewed nor used by a browser for ``older_than``; return how many.

    Backends register a fresh connection id per page load and never unregister,
    so without this the table only grows. Runs daily (``inbox.expire_push_connections``,
    registered in ``inbox/migrations/0002_periodic_tasks.py``).
    """
    now = timezone.now()
    cutoff = now - older_than
    stale = PushConnection.objects.filter(
        Q(last_seen_at__lt=cutoff) | Q(last_seen_at__isnull=True, created_at__lt=cutoff)
        | Q(disconnected_at__lt=now - _reconnect_grace()))
    deleted, _ = stale.delete()
    return deleted
