"""Scheduled events, digests and recurring events: two beat tasks and the admin's proxy model."""

from django.db import migrations

from notifications.periodic_tasks import periodic_tasks_operation

# (task, every N seconds, why this schedule)
SCHEDULES = [
    ("notifications.dispatch_scheduled_events", 5,
     "Scheduled events wait in the database; a 5 s tick sends them at most ~5 s late."),
    ("notifications.flush_digests", 10,
     "Digests are summaries: being up to 10 s late is unnoticeable and keeps the query rare."),
]


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0005_time_and_attention"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.CreateModel(
            name="RecurringEvent",
            fields=[],
            options={"verbose_name": "recurring event", "proxy": True, "indexes": [],
                     "constraints": []},
            bases=("django_celery_beat.periodictask",),
        ),
        periodic_tasks_operation(SCHEDULES),
    ]
