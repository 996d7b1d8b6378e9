"""Move credential-bearing targets saved before encryption into TargetSecret.

Webhook URLs (Slack, Teams, Mattermost hooks) and Apprise URLs already on group
targets, subscribers and deliveries are stored encrypted and replaced by their
masked reference, exactly as saving them today would. Going back leaves the
references in place: writing credentials back in plain text is not automated.
Events keep their ``to`` lists as they were accepted.
"""

from django.db import migrations


def protect(apps, schema_editor):
    from notifications.targets import (
        reference_digest,
        target_is_credential,
        target_reference,
    )

    TargetSecret = apps.get_model("notifications", "TargetSecret")
    GroupTarget = apps.get_model("notifications", "GroupTarget")
    Subscriber = apps.get_model("notifications", "Subscriber")
    Delivery = apps.get_model("notifications", "Delivery")

    def protected(channel, address):
        if (not isinstance(address, str) or not address or reference_digest(address)
                or not target_is_credential(channel=channel, address=address)):
            return address
        reference = target_reference(channel=channel, value=address)
        TargetSecret.objects.get_or_create(digest=reference_digest(reference),
                                           defaults={"channel": channel, "value": address})
        return reference

    for target in GroupTarget.objects.all().iterator():
        address = protected(target.channel, target.address)
        if address != target.address:
            GroupTarget.objects.filter(pk=target.pk).update(address=address)
    for subscriber in Subscriber.objects.exclude(channel_addresses={}).iterator():
        addresses = subscriber.channel_addresses
        if isinstance(addresses, dict):
            changed = {channel: protected(channel, value) for channel, value in addresses.items()}
            if changed != addresses:
                Subscriber.objects.filter(pk=subscriber.pk).update(channel_addresses=changed)
    credential_channels = ["slack", "teams", "apprise", "mattermost"]
    for delivery in Delivery.objects.filter(channel__in=credential_channels).iterator():
        address = protected(delivery.channel, delivery.address)
        if address != delivery.address:
            Delivery.objects.filter(pk=delivery.pk).update(
                address=address, recipient_key=delivery.recipient_key.replace(
                    delivery.address, address))


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_chat_channels_relay"),
    ]

    operations = [
        migrations.RunPython(protect, migrations.RunPython.noop),
    ]
