"""Fixtures for the admin tests: a rule wired to a group, ready to send e-mail."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from notifications.models import RecipientGroup, Rule, Subscriber
from tests.factories import (
    EmailTemplateFactory,
    RecipientGroupFactory,
    RuleFactory,
    SubscriberFactory,
)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # admin_client's superuser gets a password; the default hasher spends
    # seconds on it per test, which buys these tests nothing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Shipping:
    rule: Rule
    group: RecipientGroup
    member: Subscriber


@pytest.fixture
def shipping(db) -> Shipping:
    """``#shipping`` with one member, and an enabled e-mail rule on ``order.shipped``."""
    member = SubscriberFactory(external_id="ana", email="ana@example.com", first_name="Ana")
    group = RecipientGroupFactory(name="#shipping")
    group.members.add(member)
    rule = RuleFactory(name="order shipped", event_type="order.shipped", audience="recipients",
                       sample_data={"order_id": "A-17"})
    rule.groups.add(group)
    EmailTemplateFactory(rule=rule)
    return Shipping(rule=rule, group=group, member=member)
