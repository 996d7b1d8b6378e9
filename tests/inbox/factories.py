"""Factories for inbox rows; each test builds its own."""

from __future__ import annotations

import factory

from inbox.models import Notification
from tests.factories import SubscriberFactory


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    subscriber = factory.SubFactory(SubscriberFactory)
    title = factory.Sequence(lambda n: f"Notification {n}")
    body = "Something happened."
