"""``manage.py notify``: triggering events from the shell."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from notifications.models import Delivery, Event, Subscriber
from tests.factories import (
    ApplicationFactory,
    EmailTemplateFactory,
    RecipientGroupFactory,
    RuleFactory,
    SubscriberFactory,
)

pytestmark = pytest.mark.django_db


def notify(*args: str) -> str:
    out = StringIO()
    call_command("notify", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def shipped_rule():
    rule = RuleFactory(event_type="order.shipped", audience="both")
    EmailTemplateFactory(rule=rule)
    return rule


def test_notify_sends_email_for_matching_rule(shipped_rule, django_capture_on_commit_callbacks):
    ada = SubscriberFactory(external_id="ada", first_name="Ada")
    with django_capture_on_commit_callbacks(execute=True):
        output = notify("order.shipped", "--to", "ada", "--data", '{"order_id": "A-9"}')
    event = Event.objects.get()
    assert f"Event {event.pk} (order.shipped) accepted." in output
    [message] = mail.outbox
    assert message.to == [ada.email]
    assert message.subject == "Order A-9 shipped"
    assert "Hello Ada" in message.body


def test_notify_shorthand_and_json_objects_reach_raw_addresses(
        shipped_rule, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify("order.shipped", "--to", "email:a@example.org",
               "--to", '{"email": "b@example.org"}', "--data", '{"order_id": "7"}')
    assert Event.objects.get().recipients == [{"email": "a@example.org"},
                                              {"email": "b@example.org"}]
    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.org", "b@example.org"]


@pytest.mark.django_db(transaction=True)
def test_notify_outside_a_transaction_prints_event_and_delivery_statuses(shipped_rule):
    SubscriberFactory(external_id="ada", email="ada@example.com")
    output = notify("order.shipped", "--to", "ada", "--data", '{"order_id": "A-9"}',
                    "--idempotency-key", "cli-1")
    assert "Status: processed" in output
    assert "email → ada@example.com: sent" in output
    assert len(mail.outbox) == 1

    replay = notify("order.shipped", "--to", "ada", "--data", '{"order_id": "A-9"}',
                    "--idempotency-key", "cli-1")
    assert "idempotency key replayed" in replay
    assert Event.objects.count() == 1 and len(mail.outbox) == 1


def test_notify_with_unknown_group_fails_and_writes_nothing(shipped_rule):
    RecipientGroupFactory(name="#admins")
    with pytest.raises(CommandError, match="Unknown group '#nobody'"):
        notify("order.shipped", "--to", "#admins", "--to", "#nobody")
    assert Event.objects.count() == 0


@pytest.mark.parametrize("args, message", [
    (["--data", "{not json"], "--data: not valid JSON"),
    (["--data", "[1, 2]"], "data: Must be a JSON object"),
    (["--to", '{"email": '], "--to .*not valid JSON"),
    (["--to", "sms:12345"], "Not a valid sms address"),
    (["--to", "ada", "--application", "nope"], "no application named 'nope'"),
])
def test_notify_bad_input_is_a_clear_error(args, message):
    SubscriberFactory(external_id="ada")
    with pytest.raises(CommandError, match=message):
        notify("order.shipped", *args)
    assert Event.objects.count() == 0


def test_notify_invalid_inline_subscriber_leaves_no_row_behind():
    bad = '{"subscriber_id": "new-1", "email": "not-an-address"}'
    with pytest.raises(CommandError, match="Subscriber 'new-1'"):
        notify("order.shipped", "--to", bad)
    assert not Subscriber.objects.filter(external_id="new-1").exists()
    assert Event.objects.count() == 0 and Delivery.objects.count() == 0


def test_notify_records_the_application(shipped_rule, django_capture_on_commit_callbacks):
    application = ApplicationFactory(name="shop")
    with django_capture_on_commit_callbacks(execute=True):
        notify("order.shipped", "--to", "email:a@example.org", "--application", "shop",
               "--data", '{"order_id": "1"}')
    assert Event.objects.get().application == application


@pytest.mark.django_db(transaction=True)
def test_the_readme_example_on_the_demo_data_prints_only_its_summary(settings, tmp_path, capsys):
    """``notify order.shipped --to demo-user --to '#admins' --data '{"order_id": "A-7"}'``:
    every delivery succeeds (the demo templates need no carrier), and what the work prints
    while it runs (the outbox's echo, task log lines) stays out of the summary."""
    from notifications.services.demo import demo_load

    settings.EMAIL_BACKEND = "notifications.mail.OutboxEmailBackend"
    settings.EMAIL_OUTBOX_DIR = str(tmp_path / "outbox")
    demo_load(admin_password="demo-password-123")

    out = StringIO()
    call_command("notify", "order.shipped", "--to", "demo-user", "--to", "#admins",
                 "--data", '{"order_id": "A-7"}', stdout=out)

    output = out.getvalue()
    assert "email → demo@example.com: sent" in output
    assert "email → ops@example.com: sent" in output
    assert "inapp → demo-user: delivered" in output
    assert f"E-mails are written to {tmp_path / 'outbox'}/." in output
    assert "Content-Type" not in output + capsys.readouterr().out
    assert len(list((tmp_path / "outbox").iterdir())) == 2
