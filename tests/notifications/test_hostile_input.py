"""Input no client should send gets a 4xx naming the problem, and nothing is stored.

Deeply nested JSON, NUL characters and unpaired surrogates — in bodies and in
URLs — reach every database and JSON library differently; each is refused at
the door, on SQLite and on PostgreSQL alike, before any of it is written.
"""

from __future__ import annotations

import pytest
from django.conf import settings

from notifications.models import Event, Subscriber
from tests.factories import RuleFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


def _nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("path", ["/api/events", "/api/subscribers", "/api/groups"])
def test_json_nested_deeper_than_the_limit_is_a_400(api, path):
    limit = settings.API_MAX_JSON_DEPTH
    # The last is 100,000 arrays deep, still within the body size limit.
    for body in (_nested(limit + 1), _nested(1000), "[" * 100_000 + "]" * 100_000):
        response = api.post(path, body, content_type="application/json")
        assert response.status_code == 400, (body[:20], response.content[:200])
        assert f"deeper than {limit}" in response.json()["detail"]


def test_json_at_the_depth_limit_is_accepted(api, django_capture_on_commit_callbacks):
    RuleFactory(event_type="deep")
    data = _nested(settings.API_MAX_JSON_DEPTH - 1)  # the body object itself is one level
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/events", f'{{"event": "deep", "data": {data}}}',
                            content_type="application/json")
    assert response.status_code == 202, response.content


@pytest.mark.parametrize("raw, named", [
    ('{"event": "x", "data": {"note": "a\\u0000b"}}', "data.note"),
    ('{"event": "x\\u0000"}', "event"),
    ('{"event": "x", "data": {"k\\u0000": 1}}', "data"),
    ('{"event": "x", "data": {"list": ["ok", "\\ud800"]}}', "data.list[1]"),
    ('{"event": "x", "data": {"half": "\\udfff and more"}}', "data.half"),
])
def test_nul_and_unpaired_surrogates_in_a_body_are_refused_and_nothing_is_stored(api, raw, named):
    response = api.post("/api/events", raw, content_type="application/json")
    assert response.status_code == 400, response.content
    assert named in response.json()["detail"]
    assert Event.objects.count() == 0
    assert api.get("/api/events").status_code == 200


def test_a_paired_surrogate_is_an_ordinary_character(api, django_capture_on_commit_callbacks):
    RuleFactory(event_type="emoji")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/events", '{"event": "emoji", "data": {"s": "\\ud83d\\ude00"}}',
                            content_type="application/json")
    assert response.status_code == 202, response.content
    assert Event.objects.get().data == {"s": "\U0001F600"}
    assert api.get("/api/events").status_code == 200


def test_nul_in_a_subscriber_field_is_refused(api):
    SubscriberFactory(external_id="ada")
    response = api.patch("/api/subscribers/ada", '{"first_name": "A\\u0000da"}',
                         content_type="application/json")
    assert response.status_code == 400
    assert "first_name" in response.json()["detail"]
    assert Subscriber.objects.get().first_name != "A\x00da"


@pytest.mark.parametrize("url", ["/api/subscribers/a%00b", "/api/groups/%00",
                                 "/api/events?event_type=a%00b", "/api/subscribers?search=%00",
                                 "/api/notifications?token=%00"])
def test_nul_in_a_url_is_a_400(api, url):
    response = api.get(url)
    assert response.status_code == 400, response.content
    assert "URL" in response.json()["detail"]


@pytest.mark.parametrize("url", ["/api/subscribers/%ED%A0%80", "/api/subscribers/%FF",
                                 "/api/events?event_type=%ED%A0%80"])
def test_bytes_that_are_not_utf8_in_a_url_are_not_a_server_error(api, url):
    assert api.get(url).status_code in (200, 400, 404)


LIST_PATHS = ["/api/events", "/api/deliveries", "/api/subscribers", "/api/groups",
              "/api/categories", "/api/webhooks/endpoints"]
ODD_VALUES = ["99999999999999999999", "-1", "0", "x", "%ED%A0%80", "1e309", "", "[]", "9" * 400]
PARAMETERS = ["page", "limit", "offset", "cursor", "id", "status", "created_after", "after",
              "search", "event_type", "since", "subscriber", "ordering", "channel"]


@pytest.mark.parametrize("path", LIST_PATHS)
def test_odd_query_and_path_values_never_make_a_list_endpoint_fail(api, path):
    SubscriberFactory()
    failures = [(parameter, value, status) for parameter in PARAMETERS for value in ODD_VALUES
                if (status := api.get(f"{path}?{parameter}={value}").status_code) >= 500]
    failures += [("path", value, status) for value in ODD_VALUES[:5]
                 if (status := api.get(f"{path}/{value}").status_code) >= 500]
    assert failures == []


@pytest.mark.parametrize("text", ['{"k": "a\\u0000b"}', '{"k": "\\ud800"}', '{"a\\u0000": 1}'])
def test_admin_json_fields_refuse_what_the_database_cannot_store(admin_client, text):
    from django.urls import reverse

    from notifications.models import Subscriber

    response = admin_client.post(reverse("admin:notifications_subscriber_add"), {
        "external_id": "nul-user", "channel_addresses": "{}", "data": text})

    assert response.status_code == 200
    assert "not allowed" in response.content.decode() or "surrogate" in response.content.decode()
    assert not Subscriber.objects.filter(external_id="nul-user").exists()


@pytest.mark.parametrize("since", ["3403-05-13T13:28:45-20:02", "9999-12-31T23:59:59-23:59",
                                   "0001-01-01T00:00:00+23:00"])
@pytest.mark.parametrize("path", ["/api/events", "/api/deliveries"])
def test_times_with_offsets_postgresql_refuses_are_not_server_errors(client, path, since):
    from tests.factories import make_api_key

    _key, secret = make_api_key()
    response = client.get(path, {"since": since}, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code in (200, 400), response.content


@pytest.mark.parametrize("send_at", ["2026-12-04T00:00:00-20:02", "9999-12-31T23:59:59-23:59"])
def test_send_at_with_a_far_offset_is_stored_in_utc_or_refused(client, send_at):
    from tests.factories import make_api_key

    _key, secret = make_api_key()
    response = client.post("/api/events", {"event": "x.y", "send_at": send_at},
                           content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code in (202, 400), response.content


def test_an_empty_body_says_so(client):
    from tests.factories import make_api_key

    _key, secret = make_api_key()
    for path in ("/api/events", "/api/subscribers", "/api/groups"):
        response = client.post(path, b"", content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {secret}")
        assert response.status_code == 400
        assert response.json()["detail"].startswith("The request body is empty")


def test_a_chunked_body_is_refused_with_411_not_misread_as_empty():
    from django.test import RequestFactory

    from config.request_guard import refuse_chunked_body

    request = RequestFactory().post("/api/events", b"", content_type="application/json",
                                    HTTP_TRANSFER_ENCODING="chunked")
    request.META.pop("CONTENT_LENGTH", None)  # as a server hands over a chunked request
    response = refuse_chunked_body(lambda _request: None)(request)
    assert response.status_code == 411
    assert b"Content-Length" in response.content


def test_a_number_is_not_an_event_type(client):
    from tests.factories import make_api_key

    _key, secret = make_api_key()
    response = client.post("/api/events", {"event": 42}, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 400 and "event" in response.json()
