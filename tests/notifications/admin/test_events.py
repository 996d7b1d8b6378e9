"""Events in the admin: "Dispatch again" re-runs the rules without duplicating deliveries."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from notifications.models import Delivery, Event
from notifications.services.events import event_ingest
from tests.factories import SubscriberFactory
from tests.notifications.admin.helpers import action_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipped(shipping, django_capture_on_commit_callbacks) -> Event:
    with django_capture_on_commit_callbacks(execute=True):
        event, _ = event_ingest(event_type="order.shipped", recipients=["#shipping"],
                                data={"order_id": "A-17"})
    return event


def _dispatch_again(admin_client, captured, *events):
    with captured(execute=True):
        return admin_client.post(reverse("admin:notifications_event_changelist"),
                                 action_data("dispatch_again", *events), follow=True)


def test_dispatch_again_does_not_duplicate_deliveries(admin_client, shipped,
                                                      django_capture_on_commit_callbacks):
    before = list(Delivery.objects.filter(event=shipped).values_list("pk", "status"))
    assert before and len(mail.outbox) == 1

    response = _dispatch_again(admin_client, django_capture_on_commit_callbacks, shipped)

    assert "Dispatched 1 event(s) again." in response.content.decode()
    assert list(Delivery.objects.filter(event=shipped).values_list("pk", "status")) == before
    assert len(mail.outbox) == 1
    shipped.refresh_from_db()
    assert shipped.status == "processed"


def test_dispatch_again_reaches_a_member_added_since(admin_client, shipping, shipped,
                                                     django_capture_on_commit_callbacks):
    shipping.group.members.add(SubscriberFactory(external_id="bo", email="bo@example.com"))

    _dispatch_again(admin_client, django_capture_on_commit_callbacks, shipped)

    assert sorted(shipped.deliveries.values_list("address", flat=True)) == [
        "ana@example.com", "bo@example.com"]
    assert [m.to for m in mail.outbox] == [["ana@example.com"], ["bo@example.com"]]


def test_event_list_columns_and_filters(admin_client, shipped, shipping):
    event_ingest(event_type="invoice.paid", recipients=[], data={})
    url = reverse("admin:notifications_event_changelist")

    processed = admin_client.get(url, {"status__exact": "processed"})
    received = admin_client.get(url, {"status__exact": "received"})

    assert [(e.event_type, e.delivery_total) for e in processed.context["cl"].result_list] == [
        ("order.shipped", 1)]
    assert [e.event_type for e in received.context["cl"].result_list] == ["invoice.paid"]


def test_only_superusers_may_delete_events(client, admin_user, django_user_model, shipped):
    staff = django_user_model.objects.create_user("staff", is_staff=True)
    staff.user_permissions.add(*_permissions("view_event", "delete_event", "change_event"))
    client.force_login(staff)
    delete_url = reverse("admin:notifications_event_delete", args=[shipped.pk])

    refused = client.post(delete_url, {"post": "yes"})
    client.force_login(admin_user)
    allowed = client.post(delete_url, {"post": "yes"})

    assert refused.status_code == 403
    assert allowed.status_code == 302
    assert not Event.objects.exists()


def test_staff_without_change_permission_cannot_dispatch_again(client, django_user_model,
                                                               shipped):
    staff = django_user_model.objects.create_user("viewer", is_staff=True)
    staff.user_permissions.add(*_permissions("view_event"))
    client.force_login(staff)

    response = client.get(reverse("admin:notifications_event_changelist"))

    assert response.status_code == 200
    assert "dispatch_again" not in response.content.decode()


def _permissions(*codenames):
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(content_type__app_label="notifications",
                                     codename__in=codenames)


def test_event_page_shows_only_the_newest_deliveries_inline(admin_client, monkeypatch, shipping,
                                                            django_capture_on_commit_callbacks):
    from notifications.admin import events as event_admin

    monkeypatch.setattr(event_admin, "INLINE_DELIVERY_LIMIT", 2)
    shipping.group.members.add(SubscriberFactory(), SubscriberFactory())
    with django_capture_on_commit_callbacks(execute=True):
        event, _ = event_ingest(event_type="order.shipped", recipients=["#shipping"], data={})
    assert event.deliveries.count() == 3

    response = admin_client.get(reverse("admin:notifications_event_change", args=[event.pk]))

    (inline,) = response.context["inline_admin_formsets"]
    assert len(inline.formset.forms) == 2
    assert "All 3 deliveries of this event" in response.content.decode()


def test_the_event_page_has_a_dispatch_again_button_that_works(admin_client):
    from django.urls import reverse

    from notifications.services.events import event_ingest

    event, _ = event_ingest(event_type="nothing.matches", recipients=[], data={})
    page = admin_client.get(reverse("admin:notifications_event_change", args=[event.pk]))
    assert 'value="dispatch_again"' in page.content.decode()
    response = admin_client.post(reverse("admin:notifications_event_changelist"), {
        "action": "dispatch_again", "_selected_action": str(event.pk)}, follow=True)
    assert "Dispatched 1 event(s) again." in response.content.decode()
