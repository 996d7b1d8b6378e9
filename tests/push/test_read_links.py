"""A clicked push marks the in-app copy of the same event read, with the token it carries."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from inbox.models import Notification
from notifications.models import MessageTemplate
from notifications.services.events import event_ingest
from push.read_links import read_token
from tests.factories import RuleFactory, SubscriberFactory


@pytest.fixture
def two_inboxes(db, django_capture_on_commit_callbacks):
    ada, grace = SubscriberFactory(external_id="ada"), SubscriberFactory(external_id="grace")
    rule = RuleFactory(event_type="order.shipped", channels=["inapp"], audience="recipients")
    MessageTemplate.objects.create(rule=rule, channel="inapp", inapp_title="Order shipped",
                                   inapp_body="On its way.")
    with django_capture_on_commit_callbacks(execute=True):
        event, _ = event_ingest(event_type="order.shipped", recipients=["ada", "grace"],
                                data={"order_id": "A-1"})
    return ada, grace, event


def test_the_token_marks_that_persons_copy_of_that_event_read(two_inboxes):
    ada, grace, event = two_inboxes
    token = read_token(subscriber_id=ada.pk, event_id=event.pk)

    answer = APIClient().post("/api/notifications/push-read", {"token": token}, format="json")

    assert answer.status_code == 204
    assert Notification.objects.get(subscriber=ada).read_at is not None
    assert Notification.objects.get(subscriber=grace).read_at is None


@pytest.mark.parametrize("token", ["", "forged", read_token(subscriber_id=1, event_id="x")[:-3]])
def test_a_bad_token_is_400_and_marks_nothing(two_inboxes, token):
    answer = APIClient().post("/api/notifications/push-read", {"token": token}, format="json")
    assert answer.status_code == 400 and "token" in answer.json()
    assert not Notification.objects.filter(read_at__isnull=False).exists()
