"""Register the inbox's periodic task with django-celery-beat."""

from django.db import migrations

from notifications.periodic_tasks import periodic_tasks_operation

# (task, every N seconds, why this schedule)
SCHEDULES = [
    ("inbox.expire_push_connections", 86400,
     "Registrations expire after 30 idle days, so a daily sweep is precise enough."),
]


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [periodic_tasks_operation(SCHEDULES)]
