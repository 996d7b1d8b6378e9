"""The in-app channel writes a broadcast's inbox rows in bulk and never twice."""

from __future__ import annotations

import pytest

from inbox.models import Notification
from notifications.models import Delivery, DeliveryStatus, MessageTemplate
from notifications.services.deliveries import deliveries_send
from notifications.services.events import event_ingest
from tests.factories import RecipientGroupFactory, RuleFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def broadcast_rule():
    group = RecipientGroupFactory(name="#everyone")
    group.members.add(*SubscriberFactory.create_batch(40))
    rule = RuleFactory(channels=["inapp"], audience="groups")
    rule.groups.add(group)
    MessageTemplate.objects.create(rule=rule, channel="inapp", inapp_title="Order {{ data.id }}",
                                   inapp_body="Shipped", action_url="/orders/{{ data.id }}")
    return rule


def test_broadcast_writes_rows_with_a_constant_number_of_queries(
        broadcast_rule, django_capture_on_commit_callbacks, django_assert_max_num_queries):
    with django_capture_on_commit_callbacks(execute=False):
        event_ingest(event_type="order.shipped", recipients=[], data={"id": 7})
    from notifications.services.dispatch import event_process

    event = event_process(event_id=__import__("notifications").models.Event.objects.get().pk)
    ids = list(event.deliveries.values_list("pk", flat=True))
    with django_assert_max_num_queries(20):  # 40 recipients; per-row work would be 80+
        deliveries_send(delivery_ids=ids)
    assert Notification.objects.count() == 40
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    sample = Notification.objects.first()
    assert (sample.title, sample.action_url, sample.category_id) == (
        "Order 7", "/orders/7", broadcast_rule.category_id)
    assert sample.delivery.provider_message_id == f"inbox:{sample.pk}"


def test_sending_a_batch_again_writes_nothing_twice(broadcast_rule,
                                                    django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        event_ingest(event_type="order.shipped", recipients=[], data={"id": 8})
    ids = list(Delivery.objects.values_list("pk", flat=True))
    Delivery.objects.update(status=DeliveryStatus.QUEUED)  # as if the first run's outcome was lost
    deliveries_send(delivery_ids=ids)
    assert Notification.objects.count() == 40


def test_borrowing_the_email_words_when_there_is_no_inapp_template(
        django_capture_on_commit_callbacks):
    from tests.factories import EmailTemplateFactory

    user = SubscriberFactory()
    rule = RuleFactory(channels=["inapp"])
    EmailTemplateFactory(rule=rule, subject="Order {{ data.order_id }} shipped",
                         text_body="Tracking: {{ data.order_id }}")
    with django_capture_on_commit_callbacks(execute=True):
        event_ingest(event_type="order.shipped", recipients=[user.external_id],
                     data={"order_id": "Z9"})
    notification = Notification.objects.get()
    assert (notification.title, notification.body) == ("Order Z9 shipped", "Tracking: Z9")


def test_raw_targets_cannot_receive_inapp(django_capture_on_commit_callbacks):
    rule = RuleFactory(channels=["inapp"], audience="groups")
    group = RecipientGroupFactory()
    rule.groups.add(group)
    # An in-app target on a group has no subscriber behind it.
    group.targets.create(channel="inapp", address="someone")
    MessageTemplate.objects.create(rule=rule, channel="inapp", inapp_title="Hi")
    with django_capture_on_commit_callbacks(execute=True):
        event_ingest(event_type="order.shipped", recipients=[], data={})
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and "subscriber" in delivery.last_error
