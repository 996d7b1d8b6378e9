"""Matrix: the exact Client-Server API calls, against a local homeserver stand-in."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import DeliveryStatus
from notifications.providers import PermanentError, TransientError
from notifications.providers.matrix import MatrixProvider
from notifications.services.sweeper import sweep
from tests.factories import RecipientGroupFactory, RuleFactory
from tests.notifications.providers.factories import (
    ChatTemplateFactory,
    chat_rule,
    only_delivery,
    pending_delivery,
    trigger,
)
from tests.notifications.providers.fake_service import DROP, Reply
from tests.notifications.providers.homeserver import API, Homeserver

pytestmark = pytest.mark.django_db

ROOM = "!ops:hs.test"
ROOM_PATH = "%21ops%3Ahs.test"


@pytest.fixture
def homeserver(service, settings) -> Homeserver:
    hs = Homeserver()
    hs.add_room(ROOM, alias="#ops:hs.test")
    hs.server = service(hs)
    # Operator-configured and on loopback: reached without any allowlist (trusted).
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    settings.MATRIX_HOMESERVER = hs.server.url
    settings.MATRIX_ACCESS_TOKEN = hs.token
    settings.MATRIX_AUTO_JOIN = True
    settings.MATRIX_MSGTYPE = "m.notice"
    return hs


def sends(hs: Homeserver) -> list:
    return [r for r in hs.server.requests if r.method == "PUT" and "/send/" in r.path]


def test_message_is_put_as_a_notice_with_plain_and_sanitised_html_bodies(
        homeserver, django_capture_on_commit_callbacks):
    chat_rule("matrix")
    event = trigger(django_capture_on_commit_callbacks, to=[{"matrix": ROOM}])

    delivery = only_delivery(event)
    [request] = homeserver.server.requests
    assert request.method == "PUT"
    assert request.path == (f"{API}/rooms/{ROOM_PATH}/send/m.room.message/"
                            f"clarion.{delivery.pk.hex}")
    assert request.headers["Authorization"] == f"Bearer {homeserver.token}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.json == {
        "msgtype": "m.notice",
        "body": "Order A-17 shipped\n\nOrder **A-17** is on its way.\n\n"
                "https://shop.example.com/orders/A-17",
        "format": "org.matrix.custom.html",
        "formatted_body": '<p><strong>Order A-17 shipped</strong></p><p>Order <strong>A-17'
                          '</strong> is on its way.</p><p><a href="https://shop.example.com/'
                          'orders/A-17" rel="noopener noreferrer">Open</a></p>',
    }
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.provider_message_id == "$event1"
    assert homeserver.rooms[ROOM] == [request.json]


def test_html_body_is_sanitised_before_it_reaches_the_room(homeserver):
    delivery = pending_delivery("matrix", ROOM, {
        "short_body": "Alert",
        "html_body": '<p onclick="x()">Alert <script>steal()</script><img src="https://t.example/p">'
                     '<a href="javascript:steal()">here</a></p>'})

    MatrixProvider().send(delivery)

    content = sends(homeserver)[0].json
    assert content["body"] == "Alert"
    assert content["formatted_body"] == '<p>Alert <a rel="noopener noreferrer">here</a></p>'


def test_msgtype_text_when_configured(homeserver, settings):
    settings.MATRIX_MSGTYPE = "m.text"
    MatrixProvider().send(pending_delivery("matrix", ROOM))
    assert sends(homeserver)[0].json["msgtype"] == "m.text"


def test_room_id_without_server_part_is_encoded_not_parsed(homeserver):
    homeserver.add_room("!Xy/z+12ab")  # room version 12: opaque, no ":server"
    delivery = pending_delivery("matrix", "!Xy/z+12ab")

    MatrixProvider().send(delivery)

    assert sends(homeserver)[0].path.startswith(f"{API}/rooms/%21Xy%2Fz%2B12ab/send/")


def test_alias_is_resolved_through_the_directory_once_and_cached(homeserver):
    provider = MatrixProvider()
    first = pending_delivery("matrix", "#ops:hs.test")
    second = pending_delivery("matrix", "#ops:hs.test")

    provider.send(first)
    provider.send(second)

    lookups = [r for r in homeserver.server.requests if r.method == "GET"]
    assert [r.path for r in lookups] == [f"{API}/directory/room/%23ops%3Ahs.test"]
    assert [r.path.split("/send/")[0] for r in sends(homeserver)] == [
        f"{API}/rooms/{ROOM_PATH}"] * 2
    assert len(homeserver.rooms[ROOM]) == 2


def test_unknown_alias_is_permanent(homeserver):
    with pytest.raises(PermanentError, match="alias #nope:hs.test does not exist"):
        MatrixProvider().send(pending_delivery("matrix", "#nope:hs.test"))
    assert sends(homeserver) == []


def test_not_in_room_auto_joins_and_sends_the_same_transaction(homeserver):
    homeserver.add_room("!lobby:hs.test", alias="#lobby:hs.test", joined=False, public=True)
    delivery = pending_delivery("matrix", "#lobby:hs.test")

    result = MatrixProvider().send(delivery)

    calls = [(r.method, r.path.split("/send/")[0]) for r in homeserver.server.requests]
    assert calls == [
        ("GET", f"{API}/directory/room/%23lobby%3Ahs.test"),
        ("PUT", f"{API}/rooms/%21lobby%3Ahs.test"),
        ("POST", f"{API}/join/%23lobby%3Ahs.test"),
        ("PUT", f"{API}/rooms/%21lobby%3Ahs.test"),
    ]
    first, second = sends(homeserver)
    assert first.path == second.path and first.body == second.body
    assert result.provider_message_id == "$event1"
    assert len(homeserver.rooms["!lobby:hs.test"]) == 1


def test_not_in_room_without_auto_join_is_permanent_and_explained(homeserver, settings):
    settings.MATRIX_AUTO_JOIN = False
    homeserver.add_room("!lobby:hs.test", joined=False, public=True)

    with pytest.raises(PermanentError) as failure:
        MatrixProvider().send(pending_delivery("matrix", "!lobby:hs.test"))

    assert "not allowed in the room (M_FORBIDDEN" in str(failure.value)
    assert "invite the account to the room and enable MATRIX_AUTO_JOIN" in str(failure.value)
    assert [r.method for r in homeserver.server.requests] == ["PUT"]


def test_join_refused_is_permanent(homeserver):
    homeserver.add_room("!private:hs.test", joined=False)

    with pytest.raises(PermanentError, match="joining !private:hs.test"):
        MatrixProvider().send(pending_delivery("matrix", "!private:hs.test"))


def test_rejected_token_is_retried_and_names_the_setting(homeserver, settings):
    settings.MATRIX_ACCESS_TOKEN = "syt_revoked"
    with pytest.raises(TransientError) as failure:
        MatrixProvider().send(pending_delivery("matrix", ROOM))
    message = str(failure.value)
    assert "rejected the access token (M_UNKNOWN_TOKEN" in message
    assert "set a valid MATRIX_ACCESS_TOKEN" in message
    assert homeserver.rooms[ROOM] == []


def test_rate_limit_honours_retry_after_header(homeserver):
    homeserver.next_sends = [Reply(429, {"errcode": "M_LIMIT_EXCEEDED", "error": "Too many",
                                         "retry_after_ms": 2000}, {"Retry-After": "30"})]
    with pytest.raises(TransientError) as failure:
        MatrixProvider().send(pending_delivery("matrix", ROOM))
    assert failure.value.retry_after == 30.0


def test_rate_limit_honours_retry_after_ms(homeserver):
    homeserver.next_sends = [Reply(429, {"errcode": "M_LIMIT_EXCEEDED", "error": "Too many",
                                         "retry_after_ms": 2500})]
    with pytest.raises(TransientError) as failure:
        MatrixProvider().send(pending_delivery("matrix", ROOM))
    assert failure.value.retry_after == 2.5


def test_rate_limited_delivery_waits_at_least_as_long_as_asked(
        homeserver, django_capture_on_commit_callbacks):
    homeserver.next_sends = [Reply(429, {"errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": 90_000})]
    chat_rule("matrix")

    delivery = only_delivery(trigger(django_capture_on_commit_callbacks, to=[{"matrix": ROOM}]))

    assert delivery.status == DeliveryStatus.QUEUED
    assert delivery.next_attempt_at - timezone.now() > timedelta(seconds=85)
    assert "M_LIMIT_EXCEEDED" in delivery.last_error


def test_server_error_is_transient(homeserver):
    homeserver.next_sends = [Reply(502, "<html>Bad gateway</html>")]
    with pytest.raises(TransientError, match="502"):
        MatrixProvider().send(pending_delivery("matrix", ROOM))


def test_unreachable_homeserver_is_transient(homeserver, settings):
    homeserver.server.shutdown()
    homeserver.server.server_close()
    with pytest.raises(TransientError, match="connect"):
        MatrixProvider().send(pending_delivery("matrix", ROOM))


def test_user_id_target_opens_and_records_a_direct_room_once(homeserver):
    provider = MatrixProvider()

    provider.send(pending_delivery("matrix", "@ana:hs.test"))
    provider.send(pending_delivery("matrix", "@ana:hs.test"))

    assert homeserver.created_rooms == [{"is_direct": True, "invite": ["@ana:hs.test"],
                                         "preset": "trusted_private_chat"}]
    [room_id] = homeserver.account_data["m.direct"]["@ana:hs.test"]
    assert len(homeserver.rooms[room_id]) == 2


def test_existing_direct_room_from_account_data_is_used(homeserver):
    homeserver.add_room("!dm-old:hs.test")
    homeserver.account_data["m.direct"] = {"@ana:hs.test": ["!dm-old:hs.test"]}

    MatrixProvider().send(pending_delivery("matrix", "@ana:hs.test"))

    assert homeserver.created_rooms == []
    assert len(homeserver.rooms["!dm-old:hs.test"]) == 1


def test_unconfigured_matrix_is_skipped_as_not_configured(settings,
                                                          django_capture_on_commit_callbacks):
    settings.MATRIX_HOMESERVER = ""
    settings.MATRIX_ACCESS_TOKEN = ""
    chat_rule("matrix")

    delivery = only_delivery(trigger(django_capture_on_commit_callbacks, to=[{"matrix": ROOM}]))

    assert (delivery.status, delivery.skip_reason) == ("skipped", "not_configured")
    assert "matrix channel is not configured" in delivery.last_error


def test_interrupted_first_attempt_is_retried_with_the_same_txn_and_posts_once(
        homeserver, django_capture_on_commit_callbacks):
    """End to end: #admins has a room alias; the homeserver stores the first PUT but the
    connection breaks before the answer; the retry is the same transaction."""
    admins = RecipientGroupFactory(name="#admins")
    admins.targets.create(channel="matrix", address="#ops:hs.test")
    rule = RuleFactory(event_type="deploy.finished", channels=["matrix"], audience="groups")
    rule.groups.add(admins)
    ChatTemplateFactory(rule=rule, channel="matrix", subject="", action_url="",
                        short_body="Deploy {{ data.version }} finished")
    homeserver.next_sends = [DROP]

    with django_capture_on_commit_callbacks(execute=True):
        from notifications.services.events import event_ingest

        event, _ = event_ingest(event_type="deploy.finished", recipients=[],
                                data={"version": "1.4.2"})
    delivery = only_delivery(event)
    assert delivery.status == DeliveryStatus.QUEUED and delivery.attempts == 1
    assert "protocol" in delivery.last_error

    with django_capture_on_commit_callbacks(execute=True):
        sweep()

    delivery.refresh_from_db()
    first, second = sends(homeserver)
    assert first.path == second.path == (f"{API}/rooms/{ROOM_PATH}/send/m.room.message/"
                                         f"clarion.{delivery.pk.hex}")
    assert homeserver.rooms[ROOM] == [{
        "msgtype": "m.notice", "body": "Deploy 1.4.2 finished",
        "format": "org.matrix.custom.html", "formatted_body": "<p>Deploy 1.4.2 finished</p>"}]
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 2
    assert delivery.provider_message_id == "$event1"
    assert [a.outcome for a in delivery.attempt_log.all()] == ["transient", "sent"]
    assert json.loads(second.body) == json.loads(first.body)
