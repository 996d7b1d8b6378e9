"""Endpoint health: last success, failing since, and disabling endpoints that stay broken.

Only automatic deliveries start the failure clock; a successful delivery of a
real message (automatic or a manual resend) stops it. Test messages touch
neither. An endpoint failing without a success for ``WEBHOOK_DISABLE_AFTER_SECONDS``
(5 days by default) is disabled and its Application's contact e-mailed; an
endpoint that answers 410 Gone is disabled at once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from webhooks.models import DisabledReason, Endpoint, Trigger

logger = logging.getLogger(__name__)


def endpoint_outcome_record(*, endpoint: Endpoint, trigger: str, succeeded: bool,
                            now: datetime | None = None) -> bool:
    """Update health after an attempt; return True when this disabled the endpoint."""
    moment = now or timezone.now()
    if trigger == Trigger.TEST:
        return False
    if succeeded:
        Endpoint.objects.filter(pk=endpoint.pk).update(last_success_at=moment, failing_since=None)
        endpoint.last_success_at, endpoint.failing_since = moment, None
        return False
    if trigger != Trigger.AUTOMATIC:
        return False
    Endpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(
        failing_since=moment)
    endpoint.failing_since = Endpoint.objects.filter(pk=endpoint.pk).values_list(
        "failing_since", flat=True).first()
    limit = moment - timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER_SECONDS)
    if endpoint.failing_since is not None and endpoint.failing_since <= limit:
        return endpoint_disable(endpoint=endpoint, reason=DisabledReason.FAILING, now=moment)
    return False


def endpoints_failing_record(*, endpoints: list[Endpoint], now: datetime) -> set:
    """After failed automatic attempts to ``endpoints`` (none of which answered): start their
    failure clocks, and disable those failing for too long; return the ids disabled."""
    if not endpoints:
        return set()
    ids = [endpoint.pk for endpoint in endpoints]
    Endpoint.objects.filter(pk__in=ids, failing_since__isnull=True).update(failing_since=now)
    limit = now - timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER_SECONDS)
    overdue = set(Endpoint.objects.filter(pk__in=ids, failing_since__lte=limit)
                  .values_list("pk", flat=True))
    return {endpoint.pk for endpoint in endpoints if endpoint.pk in overdue and endpoint_disable(
        endpoint=endpoint, reason=DisabledReason.FAILING, now=now)}


def endpoint_disable(*, endpoint: Endpoint, reason: str, now: datetime | None = None) -> bool:
    """Disable the endpoint if it is enabled; tell its owner unless they did it themselves."""
    moment = now or timezone.now()
    changed = Endpoint.objects.filter(pk=endpoint.pk, enabled=True).update(
        enabled=False, disabled_reason=reason, disabled_at=moment, updated_at=moment)
    if changed:
        endpoint.enabled, endpoint.disabled_reason, endpoint.disabled_at = False, reason, moment
        logger.warning("webhook endpoint %s disabled: %s", endpoint.pk, reason)
        if reason != DisabledReason.MANUAL:
            endpoint_pk = endpoint.pk
            transaction.on_commit(lambda: endpoint_disabled_notify(endpoint_id=endpoint_pk))
    return bool(changed)


def endpoints_disable_failing(*, now: datetime | None = None) -> int:
    """Disable every enabled endpoint that has been failing for longer than allowed."""
    moment = now or timezone.now()
    limit = moment - timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER_SECONDS)
    disabled = 0
    for endpoint in Endpoint.objects.filter(enabled=True, failing_since__lte=limit):
        disabled += endpoint_disable(endpoint=endpoint, reason=DisabledReason.FAILING, now=moment)
    return disabled


def endpoint_disabled_notify(*, endpoint_id) -> bool:
    """E-mail the Application's contact that its endpoint was disabled; False when nobody to tell."""
    endpoint = Endpoint.objects.select_related("application").filter(pk=endpoint_id).first()
    if endpoint is None or endpoint.enabled:
        return False
    contact = endpoint.application.contact_email
    if not contact:
        logger.warning("webhook endpoint %s disabled, but application %r has no contact e-mail",
                       endpoint.pk, endpoint.application.name)
        return False
    why = {
        DisabledReason.GONE: "it answered 410 Gone, which says the receiver no longer exists",
        DisabledReason.FAILING: (
            f"every automatic delivery to it has failed since "
            f"{endpoint.failing_since:%Y-%m-%d %H:%M} UTC" if endpoint.failing_since else
            "its deliveries kept failing"),
    }.get(endpoint.disabled_reason, "it was disabled")
    name = f"{endpoint.description} ({endpoint.display_url})" if endpoint.description \
        else endpoint.display_url
    body = (
        f"Clarion stopped sending webhooks to the endpoint {name} of the application "
        f"{endpoint.application.name!r} (endpoint id {endpoint.pk}) because {why}.\n\n"
        "No further events are sent to it until it is enabled again. Once the receiver works, "
        "enable the endpoint (PATCH /api/webhooks/configurations/"
        f"{endpoint.pk} with {{\"enabled\": true}}, or in the admin) and resend what it missed "
        f"with POST /api/webhooks/configurations/{endpoint.pk}/recover "
        "and {\"since\": \"<when it started failing>\"}.\n\n"
        "The attempt log (GET .../logs) shows each response the endpoint gave.\n")
    try:
        send_mail(f"Webhook endpoint disabled: {name}", body, settings.DEFAULT_FROM_EMAIL,
                  [contact])
    except Exception:  # noqa: BLE001 — a mail outage must not undo or repeat the disable
        logger.exception("could not e-mail %s about disabled endpoint %s", contact, endpoint.pk)
        return False
    return True
