"""The URL-only relay: token, throttle, channel, length, and the real outcome of the post."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from notifications.models import Delivery, DeliveryStatus, Event
from notifications.services.relay import RELAY_EVENT_TYPE
from tests.factories import RecipientGroupFactory, make_api_key
from tests.notifications.providers.factories import RelayChannelFactory
from tests.notifications.providers.fake_service import Reply, scripted, service  # noqa: F401
from tests.notifications.providers.homeserver import Homeserver

pytestmark = pytest.mark.django_db

ROOM = "!deploys:hs.test"


@pytest.fixture(autouse=True)
def _fresh_throttle(settings):
    cache.clear()
    settings.RELAY_THROTTLE_RATE = "100/min"
    settings.RELAY_MAX_MESSAGE_LENGTH = 4000
    yield
    cache.clear()


@pytest.fixture
def homeserver(service, settings):  # noqa: F811 — the imported fixture
    hs = Homeserver()
    hs.add_room(ROOM, alias="#deploys:hs.test")
    hs.server = service(hs)
    settings.MATRIX_HOMESERVER = hs.server.url
    settings.MATRIX_ACCESS_TOKEN = hs.token
    settings.MATRIX_AUTO_JOIN = False
    return hs


@pytest.fixture
def relay_key():
    _key, secret = make_api_key(scopes=["relay:post"])
    return secret


@pytest.fixture
def caller(relay_key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {relay_key}")
    return client


def test_message_is_posted_and_the_answer_carries_the_delivery(homeserver, caller):
    RelayChannelFactory(name="deploys", channel="matrix", address="#deploys:hs.test")

    response = caller.get("/post/channel/deploys/msg/Build%20done")

    assert response.status_code == 200, response.content
    body = response.json()
    delivery = Delivery.objects.get(pk=body["delivery_id"])
    assert body["status"] == "sent" and body["channel"] == "deploys"
    assert body["deliveries"] == [{
        "id": str(delivery.pk), "channel": "matrix", "target": "#deploys:hs.test",
        "status": "sent", "skip_reason": None, "error": None,
        "provider_message_id": "$event1"}]
    assert [m["body"] for m in homeserver.rooms[ROOM]] == ["Build done"]
    assert delivery.event.event_type == RELAY_EVENT_TYPE
    assert delivery.event.data == {"channel": "deploys", "message": "Build done"}
    assert [a.outcome for a in delivery.attempt_log.all()] == ["sent"]


def test_post_works_like_get_and_decodes_the_whole_message(homeserver, caller):
    RelayChannelFactory(name="deploys", channel="matrix", address=ROOM)

    response = caller.post("/post/channel/deploys/msg/Deploy%20v1%2F2%20%E2%9C%85%20100%25+ok")

    assert response.status_code == 200, response.content
    assert homeserver.rooms[ROOM][0]["body"] == "Deploy v1/2 \u2705 100%+ok"


def test_token_as_a_path_segment(homeserver, relay_key):
    RelayChannelFactory(name="deploys", channel="matrix", address=ROOM)

    response = APIClient().get(f"/post/{relay_key}/channel/deploys/msg/hello")

    assert response.status_code == 200, response.content
    assert homeserver.rooms[ROOM][0]["body"] == "hello"


@pytest.mark.parametrize("path, header", [
    ("/post/channel/deploys/msg/hi", None),
    ("/post/channel/deploys/msg/hi", "Bearer clr_00000000_not-a-real-key"),
    ("/post/clr_00000000_not-a-real-key/channel/deploys/msg/hi", None),
])
def test_missing_or_bad_token_is_refused_and_nothing_is_posted(homeserver, path, header):
    RelayChannelFactory(name="deploys", channel="matrix", address=ROOM)
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(path)

    assert response.status_code == 401
    assert homeserver.rooms[ROOM] == [] and Event.objects.count() == 0


def test_key_without_the_relay_scope_is_forbidden(homeserver):
    RelayChannelFactory(name="deploys", channel="matrix", address=ROOM)
    _key, secret = make_api_key(scopes=["events:write"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert client.get("/post/channel/deploys/msg/hi").status_code == 403


def test_unknown_or_disabled_channel_is_404(homeserver, caller):
    RelayChannelFactory(name="paused", channel="matrix", address=ROOM, enabled=False)

    for name in ("nosuch", "paused"):
        response = caller.get(f"/post/channel/{name}/msg/hi")
        assert response.status_code == 404
        assert name in response.json()["detail"]
    assert Event.objects.count() == 0


def test_provider_error_is_a_502_with_the_providers_words(homeserver, caller):
    homeserver.add_room("!closed:hs.test", joined=False)
    RelayChannelFactory(name="closed", channel="matrix", address="!closed:hs.test")

    response = caller.get("/post/channel/closed/msg/hi")

    assert response.status_code == 502
    body = response.json()
    assert body["status"] == "failed"
    assert "M_FORBIDDEN" in body["error"] and "invite the account" in body["error"]
    assert Delivery.objects.get(pk=body["delivery_id"]).status == DeliveryStatus.FAILED


def test_transient_error_is_reported_and_not_retried_behind_the_callers_back(homeserver, caller):
    homeserver.next_sends = [Reply(503, {"errcode": "M_UNKNOWN", "error": "overloaded"})]
    RelayChannelFactory(name="deploys", channel="matrix", address=ROOM)

    response = caller.get("/post/channel/deploys/msg/hi")

    assert response.status_code == 502
    delivery = Delivery.objects.get(pk=response.json()["delivery_id"])
    assert delivery.status == DeliveryStatus.FAILED and delivery.next_attempt_at is None
    assert "overloaded" in delivery.last_error


def test_unconfigured_channel_is_a_502_saying_so(caller, settings):
    settings.MATRIX_HOMESERVER = ""
    RelayChannelFactory(name="deploys", channel="matrix", address=ROOM)

    response = caller.get("/post/channel/deploys/msg/hi")

    assert response.status_code == 502
    assert response.json()["deliveries"][0]["skip_reason"] == "not_configured"


def test_message_over_the_cap_is_refused(homeserver, caller, settings):
    settings.RELAY_MAX_MESSAGE_LENGTH = 10
    RelayChannelFactory(name="deploys", channel="matrix", address=ROOM)

    response = caller.get("/post/channel/deploys/msg/" + "x" * 11)

    assert response.status_code == 400
    assert "limit is 10" in response.json()["message"][0]
    assert caller.get("/post/channel/deploys/msg/" + "x" * 10).status_code == 200
    assert len(homeserver.rooms[ROOM]) == 1


def test_requests_over_the_rate_are_throttled(homeserver, caller, settings):
    settings.RELAY_THROTTLE_RATE = "2/min"
    RelayChannelFactory(name="deploys", channel="matrix", address=ROOM)

    codes = [caller.get(f"/post/channel/deploys/msg/n{i}").status_code for i in range(3)]

    assert codes == [200, 200, 429]
    assert len(homeserver.rooms[ROOM]) == 2


def test_group_relay_posts_to_each_chat_target_of_the_group(homeserver, caller, service,  # noqa: F811
                                                            settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    slack = service(scripted(Reply(200, b"ok")))
    group = RecipientGroupFactory(name="#deploys")
    group.targets.create(channel="matrix", address=ROOM)
    group.targets.create(channel="slack", address=f"{slack.url}/services/T/B/secret-token")
    group.targets.create(channel="email", address="list@example.com")
    RelayChannelFactory(name="deploys", channel="", address="", group=group)

    response = caller.get("/post/channel/deploys/msg/Build%20done")

    assert response.status_code == 200, response.content
    assert sorted(d["channel"] for d in response.json()["deliveries"]) == ["matrix", "slack"]
    assert homeserver.rooms[ROOM][0]["body"] == "Build done"
    assert slack.requests[0].json == {"text": "Build done"}
    assert "secret-token" not in response.content.decode()


@pytest.mark.parametrize("path", ["/post/channel/ops/msg/", "/post/sometoken/channel/ops/msg/"])
def test_an_empty_message_is_a_400_that_says_so(client, path):
    response = client.get(path)
    assert response.status_code == 400
    assert "empty" in response.json()["error"]
