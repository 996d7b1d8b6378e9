"""Deliveries in the admin: "Retry" re-queues failed deliveries and they get sent."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from notifications.models import Delivery
from notifications.services.events import event_ingest
from tests.notifications.admin.helpers import action_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_delivery(shipping, django_capture_on_commit_callbacks) -> Delivery:
    """A delivery that failed for real: its e-mail template had no subject at send time."""
    shipping.rule.templates.update(subject="")
    with django_capture_on_commit_callbacks(execute=True):
        event, _ = event_ingest(event_type="order.shipped", recipients=["#shipping"],
                                data={"order_id": "A-17"})
    delivery = event.deliveries.get()
    assert delivery.status == "failed" and mail.outbox == []
    return delivery


def _retry(admin_client, captured, *deliveries):
    with captured(execute=True):
        return admin_client.post(reverse("admin:notifications_delivery_changelist"),
                                 action_data("retry", *deliveries), follow=True)


def test_retry_requeues_failed_delivery_and_it_is_sent(admin_client, shipping, failed_delivery,
                                                       django_capture_on_commit_callbacks):
    shipping.rule.templates.update(subject="Order {{ data.order_id }} shipped")

    response = _retry(admin_client, django_capture_on_commit_callbacks, failed_delivery)

    assert "Retried 1 deliveries: 1 queued for a worker." in response.content.decode()
    failed_delivery.refresh_from_db()
    assert failed_delivery.status == "sent"
    assert failed_delivery.attempt_log.filter(outcome="sent").count() == 1
    assert [(m.to, m.subject) for m in mail.outbox] == [(["ana@example.com"],
                                                        "Order A-17 shipped")]


def test_retry_reports_deliveries_that_cannot_be_retried(admin_client, shipping,
                                                         failed_delivery,
                                                         django_capture_on_commit_callbacks):
    shipping.rule.templates.update(subject="Order {{ data.order_id }} shipped")
    _retry(admin_client, django_capture_on_commit_callbacks, failed_delivery)
    assert len(mail.outbox) == 1

    response = _retry(admin_client, django_capture_on_commit_callbacks, failed_delivery)

    content = response.content.decode()
    assert "Retried 0 deliveries: none." in content
    assert "1 could not be retried" in content
    assert len(mail.outbox) == 1


def test_failed_delivery_shows_its_error_and_attempts(admin_client, failed_delivery):
    response = admin_client.get(reverse("admin:notifications_delivery_change",
                                        args=[failed_delivery.pk]))

    content = response.content.decode()
    assert "no subject" in content
    assert "Failed" in content


@pytest.mark.django_db(transaction=True)
def test_retry_says_what_happened_when_tasks_run_in_this_process(admin_client, shipping,
                                                                 failed_delivery):
    # The embedded default: the retry runs before the page answers, and fails again here
    # (the template still names a field the data lacks).
    response = admin_client.post(reverse("admin:notifications_delivery_changelist"),
                                 action_data("retry", failed_delivery), follow=True)
    assert "Retried 1 deliveries: 1 failed again (see each one&#x27;s error)." in \
        response.content.decode()


def test_the_list_shows_why_a_delivery_failed(admin_client, failed_delivery):
    page = admin_client.get(reverse("admin:notifications_delivery_changelist")).content.decode()
    assert failed_delivery.last_error[:40] in page


def test_the_delivery_page_has_a_retry_button(admin_client, failed_delivery):
    page = admin_client.get(reverse("admin:notifications_delivery_change",
                                    args=[failed_delivery.pk])).content.decode()
    assert 'value="retry"' in page and f'value="{failed_delivery.pk}"' in page
