"""Every subscriber, group and Application now belongs to a directory, names are unique within
one, and each event records the directory its recipients are looked up in."""

import django.core.validators
import django.db.models.deletion
import notifications.models.audience
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0010_directory'),
    ]

    operations = [
        migrations.AddField(
            model_name='event',
            name='directory',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='notifications.directory'),
        ),
        migrations.AlterField(
            model_name='application',
            name='directory',
            field=models.ForeignKey(blank=True, help_text="The subscribers and groups this Application's keys see and change. Empty: a directory of its own, named after the Application. Point several Applications at one directory to let them share their people (one inbox per person).", on_delete=django.db.models.deletion.PROTECT, related_name='applications', to='notifications.directory'),
        ),
        migrations.AlterField(
            model_name='recipientgroup',
            name='directory',
            field=models.ForeignKey(default=notifications.models.audience.default_directory_id, on_delete=django.db.models.deletion.PROTECT, related_name='groups', to='notifications.directory'),
        ),
        migrations.AlterField(
            model_name='recipientgroup',
            name='name',
            field=models.CharField(max_length=64, validators=[django.core.validators.RegexValidator('^#[a-z0-9][a-z0-9._-]{0,62}$', "A group name is '#' followed by lowercase letters, digits, '.', '_' or '-'.")]),
        ),
        migrations.AlterField(
            model_name='subscriber',
            name='directory',
            field=models.ForeignKey(default=notifications.models.audience.default_directory_id, on_delete=django.db.models.deletion.PROTECT, related_name='subscribers', to='notifications.directory'),
        ),
        migrations.AlterField(
            model_name='subscriber',
            name='external_id',
            field=models.CharField(max_length=200, validators=[django.core.validators.RegexValidator('^[^/\\s][^/]*$', "An external id cannot contain '/' or start with a space.")]),
        ),
        migrations.AddConstraint(
            model_name='recipientgroup',
            constraint=models.UniqueConstraint(fields=('directory', 'name'), name='unique_group_per_directory'),
        ),
        migrations.AddConstraint(
            model_name='subscriber',
            constraint=models.UniqueConstraint(fields=('directory', 'external_id'), name='unique_subscriber_per_directory'),
        ),
    ]
