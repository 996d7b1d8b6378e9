"""Register the webhooks app's periodic task with django-celery-beat.

Retries of automatic messages need no task of their own: they are pipeline
deliveries, re-queued when due by ``notifications.dispatch_due_deliveries``.
"""

from django.db import migrations

# (task, every N seconds, why this schedule)
SCHEDULES = [
    ("webhooks.disable_failing_endpoints", 3600,
     "Endpoints are disabled after days of failure; checking hourly is precise enough, and "
     "it also deletes secrets whose grace period ended."),
]


def register(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for task, seconds, why in SCHEDULES:
        interval, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
        PeriodicTask.objects.update_or_create(
            name=task, defaults={"task": task, "interval": interval, "enabled": True,
                                 "description": why})


def unregister(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[task for task, _, _ in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
