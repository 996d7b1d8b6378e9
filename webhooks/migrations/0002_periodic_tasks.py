"""Register the webhooks app's periodic task with django-celery-beat.

Retries of automatic messages need no task of their own: they are pipeline
deliveries, re-queued when due by ``notifications.dispatch_due_deliveries``.
"""

from django.db import migrations

from notifications.periodic_tasks import periodic_tasks_operation

# (task, every N seconds, why this schedule)
SCHEDULES = [
    ("webhooks.disable_failing_endpoints", 3600,
     "Endpoints are disabled after days of failure; checking hourly is precise enough, and "
     "it also deletes secrets whose grace period ended."),
]


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [periodic_tasks_operation(SCHEDULES)]
