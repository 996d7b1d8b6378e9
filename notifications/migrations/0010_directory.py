"""Directories: the namespace of subscribers and groups an Application's keys see.

Before directories every Application saw every subscriber and group, and no row
recorded which Application created it. To change nothing for a running
installation, this migration puts every existing subscriber, group and
Application into one ``default`` directory: what each Application could reach
before, it still can. Applications created afterwards get a directory of their
own; staff split or join directories in the admin.
"""

import django.db.models.deletion
from django.db import migrations, models


def into_default_directory(apps, schema_editor):
    directory_model = apps.get_model("notifications", "Directory")
    default, _ = directory_model.objects.get_or_create(name="default")
    for name in ("Subscriber", "RecipientGroup", "Application"):
        apps.get_model("notifications", name).objects.filter(directory__isnull=True).update(
            directory=default)


class Migration(migrations.Migration):

    dependencies = [
        ("notifications", "0009_delivery_lean_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="Directory",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("name", models.CharField(max_length=100, unique=True)),
                ("description", models.CharField(blank=True, max_length=200)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"verbose_name_plural": "directories", "ordering": ["name"]},
        ),
        migrations.AddField(
            model_name="application", name="directory",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="applications", to="notifications.directory"),
        ),
        migrations.AddField(
            model_name="recipientgroup", name="directory",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="groups", to="notifications.directory"),
        ),
        migrations.AddField(
            model_name="subscriber", name="directory",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="subscribers", to="notifications.directory"),
        ),
        migrations.RunPython(into_default_directory, migrations.RunPython.noop),
    ]
