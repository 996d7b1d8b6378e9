"""Celery tasks: thin wrappers that take ids and call one stage each.

Tasks are queued only by ``notifications.handoff`` (by name, in their lane)
and by beat (the periodic ones, routed to the housekeeping lane in the
settings). With late acknowledgement a task whose worker died is delivered
again, and every stage here is safe to run twice.
"""

from __future__ import annotations

from celery import shared_task

from notifications.services import digests, dispatch, scheduling, sending, sweeper


@shared_task(name="notifications.process_event")
def process_event(event_id: str) -> None:
    dispatch.event_process(event_id=event_id)


@shared_task(name="notifications.fan_out_event")
def fan_out_event(event_id: str, cursor: dict) -> None:
    dispatch.event_fan_out_more(event_id=event_id, cursor=cursor)


@shared_task(name="notifications.send_deliveries")
def send_deliveries(delivery_ids: list[str]) -> None:
    sending.deliveries_send(delivery_ids=delivery_ids)


@shared_task(name="notifications.dispatch_due_deliveries")
def dispatch_due_deliveries() -> int:
    sweeper.pushes_recover()  # every few seconds too: people are looking at those inboxes
    return sweeper.deliveries_dispatch_due()


@shared_task(name="notifications.dispatch_scheduled_events")
def dispatch_scheduled_events() -> int:
    return scheduling.events_release_due()


@shared_task(name="notifications.flush_digests")
def flush_digests() -> int:
    return digests.digests_flush_due()


@shared_task(name="notifications.trigger_event")
def trigger_event(event_type: str, to: list | None = None, data: dict | None = None,
                  application: str | None = None) -> str:
    """Run by recurring events (django-celery-beat crontabs) configured in the admin."""
    from notifications.models import Application
    from notifications.services.events import event_ingest

    app = Application.objects.get(name=application) if application else None
    event, _ = event_ingest(event_type=event_type, recipients=to or [], data=data or {},
                            application=app)
    return str(event.pk)


@shared_task(name="notifications.recover_stuck_work")
def recover_stuck_work() -> dict[str, int]:
    return {"expired_leases": sweeper.deliveries_recover_expired_leases(),
            "stuck_events": sweeper.events_requeue_stuck()}
