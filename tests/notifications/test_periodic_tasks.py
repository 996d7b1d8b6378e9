"""The periodic tasks that make recovery happen are registered with django-celery-beat."""

from __future__ import annotations

import pytest
from django_celery_beat.models import PeriodicTask

from config.celery import app


@pytest.mark.django_db
def test_recovery_tasks_are_scheduled_and_exist():
    app.loader.import_default_modules()  # what a worker or beat does at start: find tasks.py
    scheduled = {task.task: task for task in PeriodicTask.objects.filter(enabled=True)}
    assert {"notifications.dispatch_due_deliveries", "notifications.recover_stuck_work",
            "inbox.expire_push_connections"} <= set(scheduled)
    assert scheduled["notifications.dispatch_due_deliveries"].interval.every == 5
    for name in scheduled:
        assert name in app.tasks, f"{name} is scheduled but no such task is registered"
