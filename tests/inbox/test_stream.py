"""The fallback stream over a real server: Server-Sent Events and long-polling."""

from __future__ import annotations

import http.client
import json
import threading
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from inbox.models import Notification
from inbox.services.notifications import notifications_mark_read, notifications_push_created
from inbox.services.tokens import inbox_token_mint
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db(transaction=True)


class SseClient:
    """A plain HTTP client reading ``text/event-stream`` the way EventSource does."""

    def __init__(self, base_url: str, path: str, headers: dict[str, str] | None = None):
        parts = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        self.connection.request("GET", path, headers=headers or {})
        self.response = self.connection.getresponse()

    def next_event(self) -> dict:
        event: dict = {}
        while True:
            line = self.response.fp.readline().decode().rstrip("\n")
            if line == "":
                if "data" in event:
                    return event
                continue
            if line.startswith(":"):
                continue
            field, _, value = line.partition(": ")
            event[field] = value

    def close(self) -> None:
        self.connection.close()


def create(subscriber, title: str) -> Notification:
    notification = Notification.objects.create(subscriber=subscriber, title=title)
    notifications_push_created([notification])
    return notification


def test_sse_streams_live_events_and_resumes_from_last_event_id(asgi_live_server):
    ada = SubscriberFactory(external_id="ada")
    token = inbox_token_mint(subscriber=ada).token
    stream = SseClient(asgi_live_server, f"/api/notifications/stream?token={token}")
    assert stream.response.status == 200
    assert stream.response.headers["Content-Type"].startswith("text/event-stream")
    hello = stream.next_event()
    assert hello["event"] == "hello" and json.loads(hello["data"])["unread_count"] == 0

    first = create(ada, "first")
    event = stream.next_event()
    assert (event["event"], event["id"]) == ("notification.created", str(first.pk))
    notifications_mark_read(subscriber_id=ada.pk, ids=[first.pk])
    assert stream.next_event()["event"] == "notification.read"
    stream.close()

    missed = create(ada, "while away")
    resumed = SseClient(asgi_live_server, f"/api/notifications/stream?token={token}",
                        headers={"Last-Event-ID": str(first.pk)})
    assert resumed.next_event()["event"] == "hello"
    caught_up = resumed.next_event()
    assert json.loads(caught_up["data"])["notification"]["title"] == "while away"
    assert caught_up["id"] == str(missed.pk)
    resumed.close()


def test_sse_refuses_without_a_valid_token(asgi_live_server):
    for path in ("/api/notifications/stream", "/api/notifications/stream?token=forged"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(asgi_live_server + path, timeout=5)  # noqa: S310
        assert refused.value.code == 401


def test_long_poll_returns_missed_at_once_and_waits_for_new(asgi_live_server):
    ada = SubscriberFactory(external_id="ada")
    token = inbox_token_mint(subscriber=ada).token

    def poll(query: str) -> dict:
        request = urllib.request.Request(f"{asgi_live_server}/api/notifications/poll?{query}",
                                         headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.load(response)

    cursor = poll("")["last_id"]
    early = create(ada, "early")
    answer = poll(f"after={cursor}")
    assert [e["notification"]["id"] for e in answer["events"]] == [early.pk]

    # Nothing new: the request waits until something happens.
    result: dict = {}
    waiter = threading.Thread(target=lambda: result.update(poll(f"after={answer['last_id']}&timeout=8")))
    waiter.start()
    later = None
    for _ in range(100):  # give the poll time to start listening, then create
        waiter.join(0.05)
        if later is None:
            later = create(ada, "later")
    waiter.join(10)
    assert [e["notification"]["id"] for e in result["events"] if e.get("notification")] == [later.pk]
    assert result["last_id"] == later.pk


def test_long_poll_times_out_empty(asgi_live_server):
    ada = SubscriberFactory(external_id="ada")
    token = inbox_token_mint(subscriber=ada).token
    url = f"{asgi_live_server}/api/notifications/poll?after=0&timeout=0.2&token={token}"
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
        body = json.load(response)
    assert body == {"events": [], "last_id": 0, "unread_count": 0}


@pytest.mark.parametrize("query, status", [
    ("after=99999999999999999999&timeout=0.2", 200),  # beyond any id: nothing newer
    ("after=%C2%B2&timeout=0.2", 200),  # "²" is a digit to Python, not a number here
    ("after=0&timeout=-5", 200),
    ("after=0&timeout=nan", 400),
    ("after=0&timeout=inf", 400),
    ("after=0&timeout=soon", 400),
])
def test_long_poll_takes_odd_cursors_and_refuses_odd_timeouts(asgi_live_server, query, status):
    ada = SubscriberFactory(external_id="ada")
    token = inbox_token_mint(subscriber=ada).token
    url = f"{asgi_live_server}/api/notifications/poll?{query}&token={token}"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
            answered, body = response.status, json.load(response)
    except urllib.error.HTTPError as error:
        answered, body = error.code, json.load(error)
    assert answered == status, body
    if status == 200:
        assert body["events"] == []
    else:
        assert "timeout" in body
