"""Register Clarion's periodic tasks with django-celery-beat (one place for every schedule)."""

from django.db import migrations

from notifications.periodic_tasks import periodic_tasks_operation

# (task, every N seconds, why this schedule)
SCHEDULES = [
    ("notifications.dispatch_due_deliveries", 5,
     "Retries wait in the database; a 5 s tick keeps the delay a retry adds small."),
    ("notifications.recover_stuck_work", 30,
     "Lost broker hand-offs and expired leases are rare; 30 s bounds how long they delay mail."),
]


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [periodic_tasks_operation(SCHEDULES)]
