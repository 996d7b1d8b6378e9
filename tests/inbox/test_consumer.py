"""``/ws/inbox/`` with Channels' WebsocketCommunicator: auth, isolation, fan-out, catch-up."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from inbox.models import Notification
from inbox.services.notifications import (
    notifications_mark_all_read,
    notifications_mark_read,
    notifications_push_created,
)
from inbox.services.tokens import inbox_token_mint
from tests.factories import SubscriberFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio,
              pytest.mark.usefixtures("fresh_channel_layer")]
ORIGIN = (b"origin", b"http://testserver")


async def connect(path: str, origin=ORIGIN) -> tuple[WebsocketCommunicator, dict]:
    communicator = WebsocketCommunicator(application, path, headers=[origin] if origin else [])
    connected, _ = await communicator.connect()
    assert connected
    return communicator, await communicator.receive_json_from(timeout=2)


@sync_to_async
def subscriber_with_token(external_id: str):
    subscriber = SubscriberFactory(external_id=external_id)
    return subscriber, inbox_token_mint(subscriber=subscriber).token


@sync_to_async
def new_notification(subscriber, title="Hello") -> Notification:
    notification = Notification.objects.create(subscriber=subscriber, title=title)
    notifications_push_created([notification])  # autocommit: pushed at once
    return notification


async def test_missing_or_bad_token_is_closed_with_4401():
    for path in ("/ws/inbox/", "/ws/inbox/?token=forged"):
        communicator, first = await connect(path)
        assert first["error"] == "unauthenticated"
        closed = await communicator.receive_output(timeout=2)
        assert closed == {"type": "websocket.close", "code": 4401}


async def test_foreign_origin_is_refused():
    _, token = await subscriber_with_token("ada")
    communicator = WebsocketCommunicator(application, f"/ws/inbox/?token={token}",
                                         headers=[(b"origin", b"https://evil.example")])
    connected, _ = await communicator.connect()
    assert not connected


async def test_every_session_of_a_subscriber_receives_and_others_do_not():
    ada, ada_token = await subscriber_with_token("ada")
    _, bob_token = await subscriber_with_token("bob")
    tab1, hello = await connect(f"/ws/inbox/?token={ada_token}")
    tab2, _ = await connect(f"/ws/inbox/?token={ada_token}")
    bob, _ = await connect(f"/ws/inbox/?token={bob_token}")
    assert hello == {"type": "hello", "subscriber": "ada", "unread_count": 0}

    created = await new_notification(ada, "Shipped")
    for tab in (tab1, tab2):
        message = await tab.receive_json_from(timeout=2)
        assert message["type"] == "notification.created"
        assert message["notification"]["id"] == created.pk and message["unread_count"] == 1
    assert await bob.receive_nothing(timeout=0.3)

    await sync_to_async(notifications_mark_read)(subscriber_id=ada.pk, ids=[created.pk])
    for tab in (tab1, tab2):
        assert await tab.receive_json_from(timeout=2) == {
            "type": "notification.read", "ids": [created.pk], "unread_count": 0}
    await sync_to_async(notifications_mark_all_read)(subscriber_id=ada.pk)
    assert (await tab2.receive_json_from(timeout=2))["type"] == "notifications.all_read"
    for communicator in (tab1, tab2, bob):
        await communicator.disconnect()


async def test_reconnecting_with_last_id_catches_up_in_order():
    ada, token = await subscriber_with_token("ada")
    seen = await new_notification(ada, "seen")
    missed = [await new_notification(ada, f"missed {i}") for i in range(3)]
    communicator, hello = await connect(f"/ws/inbox/?token={token}&last_id={seen.pk}")
    assert hello["unread_count"] == 4
    received = [await communicator.receive_json_from(timeout=2) for _ in missed]
    assert [m["notification"]["id"] for m in received] == [n.pk for n in missed]
    assert all(m["catch_up"] for m in received)
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


async def test_a_notification_pushed_again_reaches_a_socket_once():
    """The sweeper pushes again what a killed worker may not have pushed (at-least-once);
    the socket passes each notification on once, a repeat after a catch-up included."""
    ada, token = await subscriber_with_token("ada")
    earlier = await new_notification(ada, "earlier")
    communicator, _ = await connect(f"/ws/inbox/?token={token}&last_id=0")
    assert (await communicator.receive_json_from(timeout=2))["notification"]["id"] == earlier.pk
    created = await new_notification(ada, "once")
    assert (await communicator.receive_json_from(timeout=2))["notification"]["id"] == created.pk
    await sync_to_async(notifications_push_created)([created, earlier])  # the recovery's repeat
    assert await communicator.receive_nothing(timeout=0.3)
    later = await new_notification(ada, "later")
    assert (await communicator.receive_json_from(timeout=2))["notification"]["id"] == later.pk
    await communicator.disconnect()


async def test_session_cookie_of_a_linked_user_authenticates(client):
    from django.contrib.auth.models import User

    @sync_to_async
    def login() -> str:
        user = User.objects.create_user("ada", password="pw-123456")
        SubscriberFactory(external_id="ada", user=user)
        client.force_login(user)
        return client.cookies["sessionid"].value

    session = await login()
    communicator = WebsocketCommunicator(application, "/ws/inbox/",
                                         headers=[ORIGIN, (b"cookie", f"sessionid={session}".encode())])
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from(timeout=2))["subscriber"] == "ada"
    await communicator.disconnect()


async def test_ping_and_garbage_frames():
    _, token = await subscriber_with_token("ada")
    communicator, _ = await connect(f"/ws/inbox/?token={token}")
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=2) == {"type": "pong"}
    await communicator.send_to(text_data="{not json")
    assert (await communicator.receive_json_from(timeout=2))["type"] == "error"
    await communicator.disconnect()
