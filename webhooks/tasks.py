"""Celery tasks of the webhooks app: thin wrappers that take ids and call one service.

Automatic sends and their retries are the pipeline's (``notifications.send_deliveries``
and the due-delivery sweeper); these tasks cover what the pipeline does not.
"""

from __future__ import annotations

from celery import shared_task

from webhooks.services import health, messages, secrets


@shared_task(name="webhooks.resend_messages")
def resend_messages(message_ids: list[str]) -> int:
    return messages.messages_resend_failed(message_ids=message_ids)


@shared_task(name="webhooks.disable_failing_endpoints")
def disable_failing_endpoints() -> dict[str, int]:
    return {"disabled": health.endpoints_disable_failing(),
            "expired_secrets": secrets.secrets_purge_expired()}
