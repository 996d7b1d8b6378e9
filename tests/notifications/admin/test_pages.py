"""Every notifications admin page loads for staff, and searches and filters work."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from notifications.models import Delivery, Event
from notifications.services.events import event_ingest
from tests.factories import (
    ApplicationFactory,
    CategoryFactory,
    EmailTemplateFactory,
    GroupTargetFactory,
    RecipientGroupFactory,
    RuleFactory,
    SubscriberFactory,
    make_api_key,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def processed_event(shipping, django_capture_on_commit_callbacks) -> Event:
    with django_capture_on_commit_callbacks(execute=True):
        event, _ = event_ingest(event_type="order.shipped", recipients=["#shipping"],
                                data={"order_id": "A-17"})
    return event


def _objects(processed_event: Event) -> dict[str, object]:
    group = RecipientGroupFactory()
    group.members.add(SubscriberFactory())
    GroupTargetFactory(group=group)
    api_key, _secret = make_api_key()
    return {
        "application": ApplicationFactory(),
        "apikey": api_key,
        "subscriber": SubscriberFactory(),
        "recipientgroup": group,
        "category": CategoryFactory(),
        "rule": RuleFactory(),
        "messagetemplate": EmailTemplateFactory(),
        "event": processed_event,
        "delivery": processed_event.deliveries.first(),
    }


MODELS = ["application", "apikey", "subscriber", "recipientgroup", "category", "rule",
          "messagetemplate", "event", "delivery"]


@pytest.mark.parametrize("model", MODELS)
def test_changelist_and_change_page_load(admin_client, processed_event, model):
    obj = _objects(processed_event)[model]

    changelist = admin_client.get(reverse(f"admin:notifications_{model}_changelist"))
    change = admin_client.get(reverse(f"admin:notifications_{model}_change", args=[obj.pk]))

    assert changelist.status_code == 200
    assert change.status_code == 200
    assert str(obj) in change.content.decode()


@pytest.mark.parametrize("model", ["application", "apikey", "subscriber", "recipientgroup",
                                   "category", "rule", "messagetemplate"])
def test_add_page_loads(admin_client, model):
    response = admin_client.get(reverse(f"admin:notifications_{model}_add"))

    assert response.status_code == 200


@pytest.mark.parametrize("model", ["event", "delivery"])
def test_events_and_deliveries_cannot_be_added_or_edited(admin_client, processed_event, model):
    obj = processed_event if model == "event" else processed_event.deliveries.first()
    change_url = reverse(f"admin:notifications_{model}_change", args=[obj.pk])

    add = admin_client.get(reverse(f"admin:notifications_{model}_add"))
    post = admin_client.post(change_url, {"status": "failed"})

    assert add.status_code == 403
    assert post.status_code == 403
    obj.refresh_from_db()
    assert obj.status != "failed"


def test_event_change_page_shows_deliveries_inline(admin_client, processed_event):
    delivery = processed_event.deliveries.get()

    response = admin_client.get(reverse("admin:notifications_event_change",
                                        args=[processed_event.pk]))

    content = response.content.decode()
    assert "ana@example.com" in content
    assert reverse("admin:notifications_delivery_change", args=[delivery.pk]) in content


def test_delivery_change_page_shows_attempt_log(admin_client, processed_event):
    delivery = processed_event.deliveries.get()
    attempt = delivery.attempt_log.get()

    response = admin_client.get(reverse("admin:notifications_delivery_change",
                                        args=[delivery.pk]))

    assert escape(attempt.provider_message_id) in response.content.decode()


def test_event_search_by_id_and_type(admin_client, processed_event, shipping):
    other, _ = event_ingest(event_type="invoice.paid", recipients=[], data={})
    url = reverse("admin:notifications_event_changelist")

    by_id = admin_client.get(url, {"q": str(processed_event.pk)})
    by_type = admin_client.get(url, {"q": "invoice"})
    by_word = admin_client.get(url, {"q": "not-a-uuid"})

    assert list(by_id.context["cl"].result_list) == [processed_event]
    assert list(by_type.context["cl"].result_list) == [other]
    assert by_word.status_code == 200
    assert list(by_word.context["cl"].result_list) == []


def test_delivery_search_by_event_id_and_address(admin_client, processed_event):
    delivery = processed_event.deliveries.get()
    url = reverse("admin:notifications_delivery_changelist")

    by_event = admin_client.get(url, {"q": str(processed_event.pk)})
    by_address = admin_client.get(url, {"q": "ana@example"})
    by_event_link = admin_client.get(url, {"event": str(processed_event.pk)})

    assert list(by_event.context["cl"].result_list) == [delivery]
    assert list(by_address.context["cl"].result_list) == [delivery]
    assert list(by_event_link.context["cl"].result_list) == [delivery]


def test_delivery_filters(admin_client, processed_event):
    url = reverse("admin:notifications_delivery_changelist")

    sent = admin_client.get(url, {"status__exact": "sent", "channel__exact": "email"})
    failed = admin_client.get(url, {"status__exact": "failed"})

    assert sent.context["cl"].result_count == 1
    assert failed.context["cl"].result_count == 0


def test_subscriber_search_and_filters(admin_client, django_user_model):
    user = django_user_model.objects.create_user("bo")
    linked = SubscriberFactory(external_id="bo-1", phone="+14155550101", locale="de", user=user)
    grouped = SubscriberFactory(external_id="cy-2", last_name="Quill")
    group = RecipientGroupFactory()
    group.members.add(grouped)
    url = reverse("admin:notifications_subscriber_changelist")

    def found(**params):
        response = admin_client.get(url, params)
        assert response.status_code == 200
        return set(response.context["cl"].result_list)

    assert found(q="+14155550101") == {linked}
    assert found(q="quill") == {grouped}
    assert found(has_user="yes") == {linked}
    assert found(locale="de") == {linked}
    assert found(groups__id__exact=group.pk) == {grouped}


def test_group_list_shows_member_and_target_counts(admin_client):
    group = RecipientGroupFactory(name="#ops")
    group.members.add(SubscriberFactory(), SubscriberFactory())
    GroupTargetFactory(group=group)
    GroupTargetFactory(group=group)
    GroupTargetFactory(group=group)

    response = admin_client.get(reverse("admin:notifications_recipientgroup_changelist"))

    row = response.context["cl"].result_list[0]
    assert (row.member_total, row.target_total) == (2, 3)


def test_group_target_is_validated_for_its_channel(admin_client):
    data = {"name": "#ops", "description": "", "members": [],
            "targets-TOTAL_FORMS": "1", "targets-INITIAL_FORMS": "0",
            "targets-MIN_NUM_FORMS": "0", "targets-MAX_NUM_FORMS": "1000",
            "targets-0-channel": "matrix", "targets-0-address": "not-a-room",
            "targets-0-label": ""}

    response = admin_client.post(reverse("admin:notifications_recipientgroup_add"), data)

    assert response.status_code == 200
    assert "Not a valid matrix address" in response.content.decode()


def test_category_critical_filter(admin_client):
    critical = CategoryFactory(critical=True)
    CategoryFactory(critical=False)

    response = admin_client.get(reverse("admin:notifications_category_changelist"),
                                {"critical__exact": "1"})

    assert list(response.context["cl"].result_list) == [critical]


def test_rule_filters(admin_client):
    enabled = RuleFactory(enabled=True, audience="groups")
    RuleFactory(enabled=False, audience="recipients")
    url = reverse("admin:notifications_rule_changelist")

    by_enabled = admin_client.get(url, {"enabled__exact": "1"})
    by_audience = admin_client.get(url, {"audience__exact": "groups"})
    by_category = admin_client.get(url, {"category__id__exact": enabled.category_id})

    assert list(by_enabled.context["cl"].result_list) == [enabled]
    assert list(by_audience.context["cl"].result_list) == [enabled]
    assert list(by_category.context["cl"].result_list) == [enabled]


def test_pages_need_staff(client, db, shipping):
    url = reverse("admin:notifications_rule_preview", args=[shipping.rule.pk])

    response = client.get(url)

    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_event_dispatch_count_column(admin_client, processed_event):
    response = admin_client.get(reverse("admin:notifications_event_changelist"))

    row = response.context["cl"].result_list[0]
    assert row.delivery_total == Delivery.objects.filter(event=processed_event).count() == 1


def test_group_members_are_picked_by_autocomplete(admin_client):
    ana = SubscriberFactory(external_id="ana-1", email="ana@example.com")
    SubscriberFactory(external_id="bo-1")

    response = admin_client.get(reverse("admin:autocomplete"), {
        "app_label": "notifications", "model_name": "recipientgroup", "field_name": "members",
        "term": "ana"})

    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [str(ana.pk)]
