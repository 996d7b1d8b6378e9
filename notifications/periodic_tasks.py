"""Periodic tasks are declared in data migrations, each with the reason for its schedule.

``periodic_tasks_operation(SCHEDULES)`` gives a migration the operation that
registers ``(task name, every N seconds, why)`` entries with django-celery-beat
(and removes them when migrating backwards). It works only through the
historical models a migration receives, so it stays valid as the models change.
"""

from __future__ import annotations

from django.db import migrations


def periodic_tasks_operation(schedules: list[tuple[str, int, str]]) -> migrations.RunPython:
    def register(apps, schema_editor) -> None:
        interval_model = apps.get_model("django_celery_beat", "IntervalSchedule")
        task_model = apps.get_model("django_celery_beat", "PeriodicTask")
        for task, seconds, why in schedules:
            interval, _ = interval_model.objects.get_or_create(every=seconds, period="seconds")
            task_model.objects.update_or_create(
                name=task, defaults={"task": task, "interval": interval, "enabled": True,
                                     "description": why})

    def unregister(apps, schema_editor) -> None:
        apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
            name__in=[task for task, _, _ in schedules]).delete()

    return migrations.RunPython(register, unregister)
