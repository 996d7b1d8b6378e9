"""Subscribers, groups and categories over the REST API; schema and docs pages."""

from __future__ import annotations

import pytest

from notifications.models import GroupTarget, RecipientGroup, Subscriber
from tests.factories import CategoryFactory, RecipientGroupFactory, SubscriberFactory, make_api_key

pytestmark = pytest.mark.django_db


def test_subscriber_create_and_fetch_by_external_id(api):
    created = api.post("/api/subscribers", {"external_id": "user odd:1", "email": "o@example.com",
                                            "phone": "+14155550100", "locale": "de-AT",
                                            "timezone": "Europe/Vienna",
                                            "channel_addresses": {"matrix": "@o:example.org"}},
                       format="json")
    assert created.status_code == 201, created.content
    fetched = api.get("/api/subscribers/user%20odd:1").json()
    assert fetched["channel_addresses"] == {"matrix": "@o:example.org"}
    assert fetched["timezone"] == "Europe/Vienna"
    assert api.get("/api/subscribers/user-none").status_code == 404


def test_subscriber_validation_names_the_field(api):
    for body, field in [({"external_id": "a", "phone": "0171 123"}, "phone"),
                        ({"external_id": "a", "timezone": "Mars/Olympus"}, "timezone"),
                        ({"external_id": "a", "email": "nope"}, "email"),
                        ({"external_id": "a", "channel_addresses": {"pager": "1"}},
                         "channel_addresses"),
                        ({"external_id": "a", "data": [1]}, "data"),
                        ({"external_id": "a/b"}, "external_id")]:
        response = api.post("/api/subscribers", body, format="json")
        assert response.status_code == 400 and field in response.json(), (body, response.content)
    assert Subscriber.objects.count() == 0


def test_subscriber_update_and_delete(api):
    SubscriberFactory(external_id="u1")
    assert api.patch("/api/subscribers/u1", {"first_name": "Grace"},
                     format="json").json()["first_name"] == "Grace"
    assert api.delete("/api/subscribers/u1").status_code == 204
    assert not Subscriber.objects.exists()


def test_group_with_members_and_targets(api):
    SubscriberFactory(external_id="u1")
    body = {"name": "#oncall", "members": ["u1"],
            "targets": [{"channel": "email", "address": "oncall@example.com"},
                        {"channel": "matrix", "address": "#ops:example.org"}]}
    assert api.post("/api/groups", body, format="json").status_code == 201
    fetched = api.get("/api/groups/oncall").json()
    assert fetched["members"] == ["u1"] and len(fetched["targets"]) == 2
    assert api.get("/api/groups/%23oncall").status_code == 200
    replaced = api.patch("/api/groups/oncall", {"targets": []}, format="json")
    assert replaced.status_code == 200 and GroupTarget.objects.count() == 0


def test_a_group_name_works_with_or_without_the_hash(api):
    response = api.post("/api/groups", {"name": "oncall"}, format="json")
    assert response.status_code == 201 and response.json()["name"] == "#oncall"
    again = api.post("/api/groups", {"name": "#oncall"}, format="json")
    assert again.status_code == 400 and "already exists" in str(again.json()["name"])


@pytest.mark.parametrize("body, field", [
    ({"name": "Admins!"}, "name"),
    ({"name": 42}, "name"),
    ({"name": "#ok", "members": ["ghost"]}, "members"),
    ({"name": "#ok", "targets": [{"channel": "email", "address": "x"}]}, "targets"),
    ({"name": "#ok", "targets": [{"channel": "fax", "address": "1"}]}, "targets"),
])
def test_bad_groups_are_400_and_nothing_is_written(api, body, field):
    response = api.post("/api/groups", body, format="json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert not RecipientGroup.objects.exists()


def test_group_names_are_unique(api):
    RecipientGroupFactory(name="#admins")
    response = api.post("/api/groups", {"name": "#admins"}, format="json")
    assert response.status_code == 400 and "name" in response.json()


def test_categories_are_read_only(api):
    CategoryFactory(key="billing", critical=True)
    assert api.get("/api/categories/billing").json()["critical"] is True
    assert api.post("/api/categories", {"key": "x", "name": "X"},
                    format="json").status_code in (403, 405)


def test_read_only_key_cannot_write_subscribers(anon_api):
    _, secret = make_api_key(scopes=["subscribers:read"])
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert anon_api.get("/api/subscribers").status_code == 200
    assert anon_api.post("/api/subscribers", {"external_id": "x"},
                         format="json").status_code == 403


def test_lists_are_paginated(api):
    SubscriberFactory.create_batch(3)
    page = api.get("/api/subscribers?page_size=2").json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
    assert len(api.get("/api/subscribers?page_size=1000").json()["results"]) == 3  # capped


@pytest.mark.parametrize("size", ["0", "-1", "two", "null", "", "1.5", "٣"])
def test_a_page_size_that_is_not_a_whole_number_is_refused(api, size):
    response = api.get(f"/api/subscribers?page_size={size}")
    assert response.status_code == 400
    assert response.json()["page_size"] == ["A whole number from 1 to 200 is required."]


def test_schema_and_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/events" in schema.content
    docs = client.get("/api/docs/")
    html = docs.content.decode()
    assert docs.status_code == 200 and "swagger" in html.lower()
    assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html
    asset = next(part.split('"')[0] for part in html.split('src="')[1:] if "swagger" in part)
    assert client.get(asset).status_code == 200


def test_unknown_api_path_is_a_json_404(api):
    response = api.get("/api/nothing-here")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("body, field", [
    ({"external_id": "u-1", "emali": "a@example.com"}, "emali"),
    ({"external_id": 42}, "external_id"),
    ({"external_id": "u-1", "first_name": ["Ada"]}, "first_name"),
    ({"external_id": "u-1", "phone": "+1000000"}, "phone"),
])
def test_subscribers_accept_only_what_the_schema_describes(api, body, field):
    response = api.post("/api/subscribers", body, format="json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert not Subscriber.objects.exists()


def test_a_phone_number_is_stored_in_e164(api):
    response = api.post("/api/subscribers", {"external_id": "u-1", "phone": "+4915123456789"},
                        format="json")
    assert response.status_code == 201 and response.json()["phone"] == "+4915123456789"


@pytest.mark.parametrize("query, name, said", [
    ("since=", "since", "Give a value, or leave the parameter out."),
    ("event=", "event", "Give a value, or leave the parameter out."),
    ("status=", "status", "Give a value, or leave the parameter out."),
])
def test_a_filter_given_empty_is_refused_not_ignored(api, query, name, said):
    response = api.get(f"/api/deliveries?{query}")
    assert response.status_code == 400
    assert response.json()[name] == [said]


@pytest.mark.parametrize("value", ["null", "yes", "2"])
def test_a_yes_no_filter_takes_true_or_false(api, value):
    response = api.get(f"/api/webhooks/configurations?enabled={value}")
    assert response.status_code == 400
    assert response.json()["enabled"] == ["Use true or false."]
    assert api.get("/api/webhooks/configurations?enabled=true").status_code == 200


@pytest.mark.parametrize("path, body, field", [
    ("/api/events", {"event": "order.shipped", "to": {}}, "to"),
    ("/api/events", {"event": "order.shipped", "to": "user-1"}, "to"),
    ("/api/groups", {"name": "oncall", "members": {}}, "members"),
    ("/api/groups", {"name": "oncall", "members": {"ada": 1}}, "members"),
])
def test_a_list_field_given_something_else_is_refused(api, path, body, field):
    response = api.post(path, body, format="json")
    assert response.status_code == 400
    assert response.json()[field] == ["Expected a list."]
