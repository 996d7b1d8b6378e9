"""Register Clarion's periodic tasks with django-celery-beat (one place for every schedule)."""

from django.db import migrations

# (task, every N seconds, why this schedule)
SCHEDULES = [
    ("notifications.dispatch_due_deliveries", 5,
     "Retries wait in the database; a 5 s tick keeps the delay a retry adds small."),
    ("notifications.recover_stuck_work", 30,
     "Lost broker hand-offs and expired leases are rare; 30 s bounds how long they delay mail."),
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
        ("notifications", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
