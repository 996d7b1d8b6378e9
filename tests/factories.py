"""factory_boy factories for the notifications core; every test builds its own data."""

from __future__ import annotations

import factory

from notifications.models import (
    Application,
    Category,
    GroupTarget,
    MessageTemplate,
    RecipientGroup,
    Rule,
    Subscriber,
    default_directory_id,
)
from notifications.services.api_keys import SCOPES, api_key_create


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application

    name = factory.Sequence(lambda n: f"app-{n}")
    contact_email = "owner@example.com"
    # The tests' subscribers and groups are made in the default directory; an Application
    # with a directory of its own is made with ``directory=None`` (see test_tenants.py).
    directory_id = factory.LazyFunction(default_directory_id)


def make_api_key(*, application: Application | None = None, scopes=None):
    """Return ``(api_key, secret)`` holding ``scopes`` (all scopes by default)."""
    minted = api_key_create(application=application or ApplicationFactory(), name="test key",
                            scopes=list(SCOPES) if scopes is None else scopes)
    return minted.api_key, minted.secret


class SubscriberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscriber

    external_id = factory.Sequence(lambda n: f"user-{n}")
    email = factory.LazyAttribute(lambda s: f"{s.external_id}@example.com")
    first_name = "Ada"


class RecipientGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RecipientGroup

    name = factory.Sequence(lambda n: f"#group-{n}")


class GroupTargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GroupTarget

    group = factory.SubFactory(RecipientGroupFactory)
    channel = "email"
    address = factory.Sequence(lambda n: f"list-{n}@example.com")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    key = factory.Sequence(lambda n: f"category-{n}")
    name = factory.Sequence(lambda n: f"Category {n}")


class RuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rule

    name = factory.Sequence(lambda n: f"rule-{n}")
    event_type = "order.shipped"
    channels = factory.LazyFunction(lambda: ["email"])
    category = factory.SubFactory(CategoryFactory)


class EmailTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MessageTemplate

    rule = factory.SubFactory(RuleFactory)
    channel = "email"
    subject = "Order {{ data.order_id }} shipped"
    text_body = "Hello {{ subscriber.first_name }}, order {{ data.order_id }} is on its way."
    html_body = "<p>Hello {{ subscriber.first_name }}, order <b>{{ data.order_id }}</b>.</p>"
