"""factory_boy factories for the webhooks app; every test builds its own data."""

from __future__ import annotations

import factory

from notifications.models import Rule
from tests.factories import ApplicationFactory, RuleFactory
from webhooks.models import Endpoint, EndpointSecret
from webhooks.services.signing import secret_generate


class EndpointFactory(factory.django.DjangoModelFactory):
    """An endpoint with one current secret (``endpoint.signing_secret``); the URL is not checked."""

    class Meta:
        model = Endpoint
        skip_postgeneration_save = True

    application = factory.SubFactory(ApplicationFactory)
    url = "https://hooks.example.com/clarion"
    description = factory.Sequence(lambda n: f"endpoint {n}")

    @factory.post_generation
    def signing_secret(self, create: bool, extracted: str | None, **kwargs) -> None:
        secret = extracted or secret_generate()
        if create:
            EndpointSecret.objects.create(endpoint=self, secret=secret)
        self.signing_secret = secret


def webhook_rule(event_type: str = "*", **overrides) -> Rule:
    """A rule routing ``event_type`` to the webhook channel (no template needed)."""
    return RuleFactory(event_type=event_type, channels=["webhook"], **overrides)
