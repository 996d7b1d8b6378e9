"""Demo data for ``make run``: an admin, a subscriber, an application with a key, and a
rule that e-mails on ``order.shipped``, so the platform does something on first start.

Every step creates what is missing and leaves what exists alone (rows edited in
the admin survive the next ``make run``); only the admin's password is set
again when it differs, so the credentials printed on each run always work.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction

from notifications.models import (
    ApiKey,
    Application,
    Category,
    GroupTarget,
    MessageTemplate,
    RecipientGroup,
    Rule,
    Subscriber,
    default_directory_id,
)
from notifications.models.applications import SCOPES
from notifications.services.api_keys import MintedKey, api_key_create

ADMIN_USERNAME = "admin"
APPLICATION_NAME = "demo"
KEY_NAME = "demo key"
SUBSCRIBER_ID = "demo-user"
GROUP_NAME = "#admins"
RULE_NAME = "Order shipped"
EVENT_TYPE = "order.shipped"
SAMPLE_DATA = {"order_id": "A-1001", "carrier": "DHL"}
# `default(..., true)` also covers an empty first name and raw targets (no subscriber).
_GREETING = "Hello {{ subscriber.first_name | default('there', true) }},"
EMAIL_TEMPLATE = {
    "subject": "Order {{ data.order_id }} has shipped",
    "text_body": _GREETING + "\n\nyour order {{ data.order_id }} is on its way with "
                             "{{ data.carrier | default('our courier') }}.\n\n-- Clarion demo\n",
    "html_body": "<p>" + _GREETING + "</p>\n<p>your order <strong>{{ data.order_id }}</strong> "
                 "is on its way with {{ data.carrier | default('our courier') }}.</p>\n",
}
INAPP_TEMPLATE = {
    "inapp_title": "Order {{ data.order_id }} has shipped",
    "inapp_body": "On its way with {{ data.carrier | default('our courier') }}.",
    # A stand-in page of the demo shop (config/landing.py); a real rule links to its own.
    "action_url": "/demo/orders/{{ data.order_id }}",
}


@dataclass
class DemoResult:
    """What ``demo_load`` did; ``minted`` holds the new key's secret, which exists only here."""

    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    password_set: bool = False
    minted: MintedKey | None = None
    existing_key: ApiKey | None = None

    def note(self, created: bool, what: str) -> None:
        (self.created if created else self.existing).append(what)


def _admin(*, password: str, result: DemoResult):
    user_model = get_user_model()
    user = user_model.objects.filter(username=ADMIN_USERNAME).first()
    if user is None:
        user = user_model.objects.create_superuser(ADMIN_USERNAME, "admin@example.com", password)
        result.note(True, f"superuser {ADMIN_USERNAME!r}")
        return user
    result.note(False, f"superuser {ADMIN_USERNAME!r}")
    if not (user.is_superuser and user.is_staff and user.is_active):
        user.is_superuser = user.is_staff = user.is_active = True
        user.save(update_fields=["is_superuser", "is_staff", "is_active"])
    if not user.check_password(password):
        user.set_password(password)
        user.save(update_fields=["password"])
        result.password_set = True
    return user


def _subscriber(*, user, result: DemoResult) -> Subscriber:
    # The admin may already be linked to another subscriber (the link is one-to-one).
    free_user = user if not Subscriber.objects.filter(user=user).exists() else None
    subscriber, created = Subscriber.objects.get_or_create(
        directory_id=default_directory_id(), external_id=SUBSCRIBER_ID,
        defaults={"email": "demo@example.com", "first_name": "Demo", "user": free_user})
    if not created and subscriber.user_id is None and free_user is not None:
        subscriber.user = free_user
        subscriber.save(update_fields=["user", "updated_at"])
    result.note(created, f"subscriber {SUBSCRIBER_ID!r}")
    return subscriber


def _api_key(*, application: Application, result: DemoResult) -> None:
    existing = application.api_keys.filter(name=KEY_NAME, revoked_at__isnull=True).first()
    if existing is not None:
        result.existing_key = existing
        result.note(False, f"API key {existing.prefix}…")
        return
    result.minted = api_key_create(application=application, name=KEY_NAME, scopes=list(SCOPES))
    result.note(True, f"API key {result.minted.api_key.prefix}…")


def _group(*, subscriber: Subscriber, result: DemoResult) -> RecipientGroup:
    group, created = RecipientGroup.objects.get_or_create(
        directory_id=default_directory_id(), name=GROUP_NAME,
        defaults={"description": "Operations: told about every order."})
    if created:
        group.members.add(subscriber)
        GroupTarget.objects.create(group=group, channel="email", address="ops@example.com",
                                   label="Ops mailing list")
    result.note(created, f"group {GROUP_NAME!r}")
    return group


def _rule(*, group: RecipientGroup, category: Category, result: DemoResult) -> None:
    rule, created = Rule.objects.get_or_create(name=RULE_NAME, defaults={
        "description": "Tell the customer (e-mail, inbox), #admins and the demo application's "
                       "webhook endpoints when an order ships.",
        "event_type": EVENT_TYPE, "category": category, "channels": ["email", "inapp", "webhook"],
        "audience": "both", "sample_data": SAMPLE_DATA})
    if created:
        rule.groups.add(group)
    result.note(created, f"rule {RULE_NAME!r}")
    for channel, fields, label in (("email", EMAIL_TEMPLATE, "e-mail template"),
                                   ("inapp", INAPP_TEMPLATE, "in-app template")):
        if rule.templates.filter(channel=channel, locale="").exists():
            result.note(False, label)
            continue
        template = MessageTemplate(rule=rule, channel=channel, locale="", **fields)
        # Renders the template against the sample data, so a broken demo fails loudly here.
        template.full_clean()
        template.save()
        result.note(True, label)


def demo_load(*, admin_password: str) -> DemoResult:
    """Create whatever demo data is missing; return what was created and the new key, if any."""
    result = DemoResult()
    with transaction.atomic():
        user = _admin(password=admin_password, result=result)
        subscriber = _subscriber(user=user, result=result)
        # The demo application shares the default directory with what staff create, so the
        # demo subscriber and #admins are the ones its key sees.
        application, created = Application.objects.get_or_create(
            name=APPLICATION_NAME, defaults={"directory_id": default_directory_id()})
        result.note(created, f"application {APPLICATION_NAME!r}")
        _api_key(application=application, result=result)
        category, created = Category.objects.get_or_create(key="orders",
                                                           defaults={"name": "Orders"})
        result.note(created, "category 'orders'")
        group = _group(subscriber=subscriber, result=result)
        _rule(group=group, category=category, result=result)
    return result
