"""POST /api/events and the read endpoints for events and deliveries."""

from __future__ import annotations

import pytest
from django.core import mail

from notifications.models import Delivery, Event, EventStatus
from tests.factories import (
    EmailTemplateFactory,
    GroupTargetFactory,
    RecipientGroupFactory,
    RuleFactory,
    SubscriberFactory,
    make_api_key,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipped_rule():
    rule = RuleFactory(event_type="order.shipped", audience="both")
    EmailTemplateFactory(rule=rule)
    return rule


def trigger(api, body, capture, **extra):
    with capture(execute=True):
        return api.post("/api/events", body, format="json", **extra)


def test_trigger_sends_rendered_email_and_reports_deliveries(api, shipped_rule,
                                                             django_capture_on_commit_callbacks):
    ada = SubscriberFactory(external_id="user-123", first_name="Ada")
    response = trigger(api, {"event": "order.shipped", "to": ["user-123"],
                             "data": {"order_id": "A-9"}}, django_capture_on_commit_callbacks)
    assert response.status_code == 202
    assert response["Location"] == f"/api/events/{response.json()['id']}"
    [message] = mail.outbox
    assert message.to == [ada.email]
    assert message.subject == "Order A-9 shipped"
    assert "Hello Ada" in message.body
    assert message.alternatives[0][1] == "text/html"

    detail = api.get(f"/api/events/{response.json()['id']}").json()
    assert detail["status"] == EventStatus.PROCESSED
    [delivery] = detail["deliveries"]
    assert delivery["status"] == "sent" and delivery["subscriber"] == "user-123"
    assert message.extra_headers["Message-ID"] == f"<{delivery['id']}@clarion.localhost>"


def test_group_members_targets_and_inline_addresses_are_all_reached(
        api, shipped_rule, django_capture_on_commit_callbacks):
    member = SubscriberFactory()
    group = RecipientGroupFactory(name="#admins")
    group.members.add(member)
    GroupTargetFactory(group=group, address="ops@example.com")
    trigger(api, {"event": "order.shipped", "to": ["#admins", {"email": "a@example.org"}],
                  "data": {"order_id": "1"}}, django_capture_on_commit_callbacks)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [member.email, "ops@example.com", "a@example.org"])


def test_same_idempotency_key_returns_same_event_and_sends_nothing_more(
        api, shipped_rule, django_capture_on_commit_callbacks):
    SubscriberFactory(external_id="u1")
    body = {"event": "order.shipped", "to": ["u1"], "data": {"order_id": "1"}}
    first = trigger(api, {**body, "idempotency_key": "abc"}, django_capture_on_commit_callbacks)
    again = trigger(api, body, django_capture_on_commit_callbacks, HTTP_IDEMPOTENCY_KEY="abc")
    assert again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Event.objects.count() == 1 and Delivery.objects.count() == 1 and len(mail.outbox) == 1


def test_reusing_an_idempotency_key_for_another_request_is_a_conflict(
        api, shipped_rule, django_capture_on_commit_callbacks):
    SubscriberFactory(external_id="u1")
    trigger(api, {"event": "order.shipped", "to": ["u1"], "idempotency_key": "k"},
            django_capture_on_commit_callbacks)
    response = trigger(api, {"event": "order.shipped", "to": [], "idempotency_key": "k"},
                       django_capture_on_commit_callbacks)
    assert response.status_code == 409
    assert "idempotency_key" in response.json()


def test_idempotency_keys_are_scoped_to_the_application(api, shipped_rule,
                                                        django_capture_on_commit_callbacks):
    _, other_secret = make_api_key()
    body = {"event": "order.shipped", "idempotency_key": "shared"}
    first = trigger(api, body, django_capture_on_commit_callbacks)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {other_secret}")
    second = trigger(api, body, django_capture_on_commit_callbacks)
    assert first.json()["id"] != second.json()["id"]


@pytest.mark.parametrize("body, field", [
    ({"event": "x", "to": ["#nope"]}, "to"),
    ({"event": "x", "to": ["ghost-user"]}, "to"),
    ({"event": "x", "to": [{"email": "not-an-address"}]}, "to"),
    ({"event": "x", "to": [{"pager": "123"}]}, "to"),
    ({"event": "x", "to": "user-1"}, "to"),
    ({"event": "bad type!"}, "event"),
    ({"to": []}, "event"),
    ({"event": "x", "data": [1, 2]}, "data"),
    ({"event": "x", "surprise": 1}, "surprise"),
])
def test_bad_triggers_are_400_naming_the_field_and_write_nothing(api, body, field):
    response = api.post("/api/events", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Event.objects.count() == 0


def test_malformed_json_is_400(api):
    response = api.post("/api/events", "{nope", content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_body_over_256_kb_is_413(api):
    body = '{"event": "x", "data": {"blob": "' + "x" * (300 * 1024) + '"}}'
    response = api.post("/api/events", body, content_type="application/json")
    assert response.status_code == 413
    assert Event.objects.count() == 0


def test_missing_or_revoked_key_is_401(anon_api, api_key):
    assert anon_api.post("/api/events", {"event": "x"}, format="json").status_code == 401
    key, secret = api_key
    key.revoked_at = key.created_at
    key.save()
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = anon_api.post("/api/events", {"event": "x"}, format="json")
    assert response.status_code == 401
    assert secret not in response.content.decode()


def test_missing_scope_is_403(anon_api):
    _, secret = make_api_key(scopes=["events:read"])
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = anon_api.post("/api/events", {"event": "x"}, format="json")
    assert response.status_code == 403
    assert "events:write" in response.json()["detail"]


def test_event_without_matching_rule_is_processed_with_no_deliveries(
        api, django_capture_on_commit_callbacks):
    response = trigger(api, {"event": "nobody.cares"}, django_capture_on_commit_callbacks)
    detail = api.get(f"/api/events/{response.json()['id']}").json()
    assert detail["status"] == "processed" and detail["deliveries"] == []


def test_events_of_other_applications_are_invisible(api, django_capture_on_commit_callbacks):
    _, other_secret = make_api_key()
    response = trigger(api, {"event": "mine"}, django_capture_on_commit_callbacks)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {other_secret}")
    assert api.get(f"/api/events/{response.json()['id']}").status_code == 404
    assert api.get("/api/deliveries").json()["count"] == 0


def test_deliveries_filter_by_status_channel_subscriber_and_since(
        api, django_capture_on_commit_callbacks):
    rule = RuleFactory(event_type="order.shipped", channels=["email", "sms"])
    EmailTemplateFactory(rule=rule)
    SubscriberFactory(external_id="u1")
    SubscriberFactory(external_id="u2")
    trigger(api, {"event": "order.shipped", "to": ["u1", "u2"], "data": {"order_id": 1}},
            django_capture_on_commit_callbacks)
    assert api.get("/api/deliveries").json()["count"] == 4
    assert api.get("/api/deliveries?status=sent").json()["count"] == 2
    skipped = api.get("/api/deliveries?status=skipped&channel=sms").json()["results"]
    assert {d["skip_reason"] for d in skipped} == {"no_address"}
    assert api.get("/api/deliveries?subscriber=u1").json()["count"] == 2
    assert api.get("/api/deliveries?since=2999-01-01T00:00:00Z").json()["count"] == 0
    assert api.get("/api/deliveries?status=nonsense").status_code == 400
    assert api.get("/api/deliveries?page_size=1").json()["next"] is not None
