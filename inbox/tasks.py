"""Celery tasks of the inbox: thin wrappers around one service each."""

from __future__ import annotations

from celery import shared_task

from inbox.services.push import push_connections_expire


@shared_task(name="inbox.expire_push_connections")
def expire_push_connections() -> int:
    return push_connections_expire()
