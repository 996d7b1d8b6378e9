"""The push-server-compatible HTTP API: register, push, status probes, errors; expiring registrations."""

from __future__ import annotations

import json
import tomllib
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from inbox.models import PushConnection
from inbox.services.live import push_user_group
from inbox.services.push import push_connection_register, push_connections_expire
from tests.factories import ApplicationFactory, make_api_key

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_channel_layer")]


@pytest.fixture
def push_key():
    return make_api_key(scopes=["push"])


@pytest.fixture
def client(push_key) -> APIClient:
    """A client sending a push-scoped key the way push-server backends do: in X-AUTH-TOKEN."""
    key, secret = push_key
    api = APIClient()
    api.credentials(HTTP_X_AUTH_TOKEN=secret)
    api.application = key.application
    return api


def register(api: APIClient, user_id: str, connection_id: str | None):
    query = "" if connection_id is None else f"?connectionId={connection_id}"
    return api.put(f"/api/{user_id}/register{query}")


def push(api: APIClient, user_id: str, body, **extra):
    return api.post(f"/api/{user_id}/push", body, format="json", **extra)


def test_register_creates_the_connection_and_is_idempotent(client):
    first = register(client, "alice", "c-1")
    assert first.status_code == 200, first.content
    assert first.json() == {"userId": "alice", "connectionId": "c-1"}
    seen = PushConnection.objects.get().last_seen_at
    assert seen is not None
    again = client.put("/api/alice/register/?connectionId=c-1")  # trailing slash works too
    assert again.status_code == 200
    connection = PushConnection.objects.get()
    assert (connection.application, connection.user_id, connection.connection_id) == (
        client.application, "alice", "c-1")
    assert connection.last_seen_at >= seen


def test_register_keeps_ids_exactly_as_given(client):
    assert register(client, "user%20odd:1", "%20padded%20").status_code == 200
    connection = PushConnection.objects.get()
    assert (connection.user_id, connection.connection_id) == ("user odd:1", " padded ")


@pytest.mark.parametrize("query", ["", "?connectionId=", "?other=1"])
def test_register_without_connection_id_is_400(client, query):
    response = client.put(f"/api/alice/register{query}")
    assert response.status_code == 400
    assert "connectionId" in response.json()
    assert not PushConnection.objects.exists()


def test_register_refuses_over_long_ids_and_accepts_the_longest_allowed(client):
    too_long_user = register(client, "u" * 201, "c-1")
    assert too_long_user.status_code == 400 and "userId" in too_long_user.json()
    too_long_connection = register(client, "alice", "c" * 201)
    assert too_long_connection.status_code == 400 and "connectionId" in too_long_connection.json()
    assert not PushConnection.objects.exists()
    assert register(client, "u" * 200, "c" * 200).status_code == 200


def test_register_service_validates_ids_too(push_key):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as raised:
        push_connection_register(application=push_key[0].application, user_id="", connection_id="c")
    assert "user_id" in raised.value.message_dict


@pytest.mark.parametrize("credentials", [
    {},
    {"HTTP_X_AUTH_TOKEN": "clr_00000000_not-a-real-key"},
    {"HTTP_X_AUTH_TOKEN": "garbage"},
])
def test_missing_or_wrong_token_is_401(credentials, push_key):
    api = APIClient()
    api.credentials(**credentials)
    for response in (register(api, "alice", "c-1"), push(api, "alice", {"message": "hi"})):
        assert response.status_code == 401, response.content
        assert response["WWW-Authenticate"].startswith("X-AUTH-TOKEN")
        assert "detail" in response.json()
    assert not PushConnection.objects.exists()


def test_bearer_header_alone_is_not_accepted_here(push_key):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {push_key[1]}")
    assert register(api, "alice", "c-1").status_code == 401


def test_revoked_key_is_401(client, push_key):
    from notifications.services.api_keys import api_key_revoke

    api_key_revoke(api_key=push_key[0])
    assert register(client, "alice", "c-1").status_code == 401


def test_key_without_push_scope_is_403():
    _, secret = make_api_key(scopes=["events:write"])
    api = APIClient()
    api.credentials(HTTP_X_AUTH_TOKEN=secret)
    refused = register(api, "alice", "c-1")
    assert refused.status_code == 403 and "push" in refused.json()["detail"]
    assert push(api, "alice", {"message": "hi"}).status_code == 403
    assert not PushConnection.objects.exists()


def test_push_reaches_the_users_group_and_reports_registered_connections(
        client, django_capture_on_commit_callbacks, group_listener):
    register(client, "alice", "c-1")
    register(client, "alice", "c-2")
    listener = group_listener(push_user_group(client.application.pk, "alice"))
    message = {"title": "Build", "body": "passed", "params": {"id": 7}}
    with django_capture_on_commit_callbacks(execute=True):
        response = push(client, "alice", {"message": message})
    assert response.status_code == 200, response.content
    assert response.json() == {"registered_connections": 2}
    received = listener.receive()
    assert (received["type"], received["group"]) == ("live.message", listener.group)
    assert json.loads(received["text"]) == {"type": "push", "message": message}


@pytest.mark.parametrize("message", ["plain text", 42, [1, 2], {"nested": {"a": [True, None]}}])
def test_push_accepts_any_json_message(client, message, django_capture_on_commit_callbacks):
    register(client, "alice", "c-1")
    with django_capture_on_commit_callbacks() as callbacks:
        response = push(client, "alice", {"message": message})
    assert response.status_code == 200 and len(callbacks) == 1


def test_push_counts_and_sends_only_the_callers_application(client, django_capture_on_commit_callbacks):
    other_key, _ = make_api_key(application=ApplicationFactory(), scopes=["push"])
    push_connection_register(application=other_key.application, user_id="alice", connection_id="c-9")
    with django_capture_on_commit_callbacks() as callbacks:
        response = push(client, "alice", {"message": "hi"})
    assert response.status_code == 200
    assert response.json() == {"registered_connections": 0}
    assert callbacks == []  # nobody of this Application to tell


@pytest.mark.parametrize("body", [{}, {"title": "hi"}, {"message": None}, ["message"]])
def test_push_without_message_is_400(client, body):
    register(client, "alice", "c-1")
    response = push(client, "alice", body)
    assert response.status_code == 400, response.content
    payload = response.json()
    assert "message" in payload or "non_field_errors" in payload


def test_push_with_malformed_or_empty_body_is_400(client):
    bad = client.post("/api/alice/push", "{not json", content_type="application/json")
    assert bad.status_code == 400
    assert client.post("/api/alice/push", "", content_type="application/json").status_code == 400


def test_push_larger_than_the_api_limit_is_413(client, settings):
    settings.API_MAX_BODY_BYTES = 1024
    response = push(client, "alice", {"message": "x" * 2000})
    assert response.status_code == 413


def test_push_with_over_long_user_id_is_400(client):
    response = push(client, "u" * 201, {"message": "hi"})
    assert response.status_code == 400 and "userId" in response.json()


@pytest.mark.parametrize("path", ["/api/status/ping", "/api/status/ping/"])
def test_ping_answers_pong_as_text_without_a_token(anon_api, path):
    response = anon_api.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"pong"


def test_info_names_clarion_and_its_version(anon_api):
    with open(settings.BASE_DIR / "pyproject.toml", "rb") as project:
        version = tomllib.load(project)["project"]["version"]
    response = anon_api.get("/api/status/info")
    assert response.status_code == 200
    assert response.json() == {"name": "Clarion", "version": version}


def test_status_is_an_ordinary_user_id_for_register(client):
    # Only the two probe paths are reserved; /api/status/register is a user called "status".
    assert register(client, "status", "c-1").status_code == 200
    assert PushConnection.objects.get().user_id == "status"


def test_expire_deletes_registrations_unused_for_thirty_days(push_key):
    application = push_key[0].application
    now = timezone.now()
    for connection_id, last_seen in [("fresh", now - timedelta(days=29)),
                                     ("stale", now - timedelta(days=31)),
                                     ("never-seen-old", None), ("never-seen-new", None)]:
        connection = push_connection_register(application=application, user_id="alice",
                                              connection_id=connection_id)
        PushConnection.objects.filter(pk=connection.pk).update(last_seen_at=last_seen)
    PushConnection.objects.filter(connection_id="never-seen-old").update(
        created_at=now - timedelta(days=40))
    assert push_connections_expire() == 2
    assert set(PushConnection.objects.values_list("connection_id", flat=True)) == {
        "fresh", "never-seen-new"}
    assert push_connections_expire(older_than=timedelta(days=1)) == 1


def test_registering_a_closed_pair_again_makes_it_live_again(client):
    from inbox.services.push import push_connection_closed, push_send

    register(client, "alice", "c-1")
    assert push_connection_closed(user_id="alice", connection_id="c-1") == 1
    assert push_send(application=client.application, user_id="alice", message="x") == 0
    register(client, "alice", "c-1")  # the backend hands the same id out again
    assert PushConnection.objects.get().disconnected_at is None
    assert push_send(application=client.application, user_id="alice", message="x") == 1


@pytest.mark.parametrize("path", ["/api/events/push", "/api/subscribers/register",
                                  "/api/groups/push"])
def test_a_reserved_user_id_is_named_as_such(client, path):
    response = client.generic("PUT" if path.endswith("register") else "POST", path,
                              HTTP_X_AUTH_TOKEN="whatever")
    assert response.status_code == 400
    assert "reserved" in response.json()["detail"]
