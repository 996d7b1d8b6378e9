"""``manage.py load_demo``: the idempotent demo data behind ``make run``."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command

from notifications.models import (
    ApiKey,
    Application,
    Category,
    GroupTarget,
    MessageTemplate,
    RecipientGroup,
    Rule,
    Subscriber,
)
from notifications.models.applications import SCOPES
from notifications.services.api_keys import api_key_authenticate

pytestmark = pytest.mark.django_db
SECRET_RE = re.compile(r"clr_[0-9a-f]{8}_[A-Za-z0-9_-]+")
DEMO_MODELS = (get_user_model(), Subscriber, Application, ApiKey, Category, RecipientGroup,
               GroupTarget, Rule, MessageTemplate)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings, monkeypatch):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    monkeypatch.delenv("CLARION_DEMO_ADMIN_PASSWORD", raising=False)


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in DEMO_MODELS}


def test_running_twice_duplicates_nothing_and_shows_the_key_only_once():
    first = load_demo()
    after_first = counts()
    second = load_demo()

    assert counts() == after_first
    assert all(count >= 1 for count in after_first.values())
    [secret] = set(SECRET_RE.findall(first))
    key = api_key_authenticate(secret=secret)
    assert key is not None and key.application.name == "demo"
    assert f'-H "Authorization: Bearer {secret}"' in first

    assert not SECRET_RE.search(second)
    assert f"A demo API key already exists (prefix {key.prefix})" in second
    assert (".venv/bin/python manage.py create_api_key --application demo --scopes all"
            in second)
    assert '-H "Authorization: Bearer <your key>"' in second
    for output in (first, second):
        assert "http://127.0.0.1:8000/admin/" in output
        assert "Username: admin" in output and "Password: clarion-demo" in output


def test_admin_password_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("CLARION_DEMO_ADMIN_PASSWORD", "s3cret-demo")
    output = load_demo()
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password("s3cret-demo")
    assert "Password: s3cret-demo" in output
    assert Subscriber.objects.get(external_id="demo-user").user == admin


def test_demo_data_is_wired_together():
    load_demo()
    demo_user = Subscriber.objects.get(external_id="demo-user")
    assert (demo_user.email, demo_user.first_name) == ("demo@example.com", "Demo")
    group = RecipientGroup.objects.get(name="#admins")
    assert list(group.members.all()) == [demo_user]
    assert list(group.targets.values_list("channel", "address")) == [("email",
                                                                       "ops@example.com")]
    rule = Rule.objects.get(name="Order shipped")
    assert (rule.event_type, rule.channels, rule.audience) == ("order.shipped", ["email", "inapp", "webhook"],
                                                                  "both")
    assert rule.category.key == "orders" and list(rule.groups.all()) == [group]
    assert rule.sample_data == {"order_id": "A-1001", "carrier": "DHL"}
    assert sorted(ApiKey.objects.get().scopes) == sorted(SCOPES)


def test_the_curl_example_event_mails_the_demo_user_and_the_ops_list(
        django_capture_on_commit_callbacks):
    load_demo()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("notify", "order.shipped", "--to", "demo-user",
                     "--data", '{"order_id": "A-1001", "carrier": "DHL"}', stdout=StringIO())
    by_address = {message.to[0]: message for message in mail.outbox}
    assert sorted(by_address) == ["demo@example.com", "ops@example.com"]
    assert by_address["demo@example.com"].subject == "Order A-1001 has shipped"
    assert "Hello Demo," in by_address["demo@example.com"].body
    assert "with DHL" in by_address["demo@example.com"].body
    assert "Hello there," in by_address["ops@example.com"].body
    assert "<strong>A-1001</strong>" in by_address["ops@example.com"].alternatives[0][0]


def test_the_curl_example_also_lands_in_the_demo_users_inbox(django_capture_on_commit_callbacks):
    from inbox.models import Notification

    load_demo()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("notify", "order.shipped", "--to", "demo-user",
                     "--data", '{"order_id": "A-1001", "carrier": "DHL"}', stdout=StringIO())
    [notification] = Notification.objects.filter(subscriber__external_id="demo-user")
    assert notification.title == "Order A-1001 has shipped"
    assert notification.action_url == "/demo/orders/A-1001"
