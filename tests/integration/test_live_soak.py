"""Live delivery on the production shape, held idle past every timeout in the stack.

PostgreSQL, Redis, a real Celery worker and two real uvicorn processes. Clients
of every transport — WebSocket (inbox and push), Server-Sent Events,
long-polling and Socket.IO over WebSocket and over polling — connect to both
web processes, stay idle for ``IDLE_SECONDS``, and must then receive a
notification made by the worker and a push made over HTTP on the *other* web
process. The timeouts they outlast:

=====================================  =======
redis-py's default socket read timeout    5 s
the layer's command timeout / health     10 / 15 s
SSE keep-alive comment                    15 s
uvicorn WebSocket ping + its timeout     20 + 20 s
long-poll answer                          25 s
Socket.IO ping interval + timeout        25 + 20 s
=====================================  =======

A second test kills the worker in the middle of a broadcast: every open
socket still ends with each notification exactly once.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid

import aiohttp
import pytest
import socketio
from asgiref.sync import sync_to_async
from django.conf import settings
from websockets.asyncio.client import connect

from inbox.models import Notification
from notifications.models import Delivery, DeliveryStatus, MessageTemplate
from notifications.services.sweeper import sweep
from tests.factories import RecipientGroupFactory, RuleFactory, SubscriberFactory, make_api_key
from tests.integration.conftest import _database_url
from tests.processes import WebServer, environment

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

IDLE_SECONDS = float(os.environ.get("CLARION_SOAK_IDLE_SECONDS", "65"))


@pytest.fixture
def production(start_worker, celery_queue, tmp_path, settings):
    """Two web processes and a worker on one PostgreSQL and one Redis, with a private layer prefix."""
    # The sweeps this process runs (as beat would) treat work unconfirmed for 2 s as lost.
    settings.LIVE_PUSH_GRACE_SECONDS = settings.DELIVERY_HANDOFF_GRACE_SECONDS = 2
    shared = {"LIVE_CHANNEL_PREFIX": f"soak{uuid.uuid4().hex[:8]}", "DELIVERY_LEASE_SECONDS": "3",
              "EVENT_STUCK_SECONDS": "2", "DELIVERY_BATCH_SIZE": "25"}
    # ... and push on the same channels as the servers and the worker.
    layer = settings.CHANNEL_LAYERS["default"]
    settings.CHANNEL_LAYERS = {"default": {**layer, "CONFIG": {
        **layer["CONFIG"], "prefix": shared["LIVE_CHANNEL_PREFIX"]}}}
    env = environment(DATABASE_URL=_database_url(), REDIS_URL=settings.REDIS_URL,
                      SECRET_KEY=settings.SECRET_KEY, CELERY_QUEUE=celery_queue,
                      CELERY_TASK_ALWAYS_EAGER="false", EMAIL_URL="console://", **shared)
    servers = [WebServer(env, tmp_path / f"web-{name}.log").start() for name in ("a", "b")]
    worker = start_worker(**shared)
    yield servers, worker, start_worker, shared
    for server in servers:
        server.stop()


def inbox_rule(event_type: str, *, group=None) -> None:
    rule = RuleFactory(event_type=event_type, channels=["inapp"],
                       audience="groups" if group else "recipients")
    if group:
        rule.groups.add(group)
    MessageTemplate.objects.create(rule=rule, channel="inapp", inapp_title="{{ data.title }}",
                                   inapp_body="body")


def group_with_inbox_rule(name: str, event_type: str, size: int) -> list:
    """A group of ``size`` new subscribers that ``event_type`` reaches in-app; return its members."""
    group = RecipientGroupFactory(name=name)
    members = SubscriberFactory.create_batch(size)
    group.members.add(*members)
    inbox_rule(event_type, group=group)
    return members


class Collector:
    """What one client received: inbox notification ids and push messages."""

    def __init__(self, name: str):
        self.name, self.ids, self.pushes, self.task = name, [], [], None

    def take(self, frame: dict) -> None:
        if frame.get("type") == "notification.created":
            self.ids.append(frame["notification"]["id"])
        elif frame.get("type") == "push":
            self.pushes.append(frame["message"])


async def websocket_client(collector: Collector, url: str, ready: str) -> None:
    async with connect(url, ping_interval=None) as socket:  # the server's pings keep it alive
        async for text in socket:
            frame = json.loads(text)
            if frame.get("type") == ready:
                collector.ready = True
            collector.take(frame)
    collector.closed = True


async def sse_client(collector: Collector, session: aiohttp.ClientSession, url: str) -> None:
    async with session.get(url, timeout=aiohttp.ClientTimeout(total=None, sock_read=None)) as response:
        assert response.status == 200
        async for line in response.content:
            text = line.decode().strip()
            if text.startswith("data: "):
                frame = json.loads(text[6:])
                if frame.get("type") == "hello":
                    collector.ready = True
                collector.take(frame)
    collector.closed = True


async def long_poll_client(collector: Collector, session: aiohttp.ClientSession, url: str) -> None:
    cursor = 0
    collector.ready = True
    while True:
        async with session.get(f"{url}&after={cursor}") as response:
            assert response.status == 200, await response.text()  # never a 500 at the timeout
            body = await response.json()
        for frame in body["events"]:
            collector.take(frame)
        cursor = body["last_id"]
        collector.polls = getattr(collector, "polls", 0) + 1


async def wait_until(predicate, timeout: float, what: str) -> None:
    for _ in range(int(timeout / 0.1)):
        if predicate():
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


@pytest.mark.timeout(IDLE_SECONDS + 180)  # the idle time itself, plus starting the processes
def test_every_transport_on_both_web_processes_outlives_idleness_and_receives(production):
    servers, _, _, _ = production
    subscriber = SubscriberFactory(external_id="soak-user")
    inbox_rule("soak.ping")
    _, secret = make_api_key()
    asyncio.run(_soak(servers, subscriber, secret))


async def _soak(servers: list[WebServer], subscriber, secret: str) -> None:
    web_a, web_b = servers
    minted = await asyncio.to_thread(web_a.post, "/api/subscribers/soak-user/inbox-token", {}, secret)
    token = minted["token"]
    collectors: list[Collector] = []
    sio_clients: list[socketio.AsyncClient] = []
    auth = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=auth) as session:
        for index, server in enumerate(servers):
            name = "ab"[index]
            inbox = Collector(f"ws-inbox-{name}")
            inbox.task = asyncio.create_task(websocket_client(
                inbox, f"{server.ws_url}/ws/inbox/?token={token}", "hello"))
            pair = ("soak-user", f"conn-{name}")
            await session.put(f"{web_a.url}/api/{pair[0]}/register?connectionId={pair[1]}",
                              headers={"X-AUTH-TOKEN": secret})
            push = Collector(f"ws-push-{name}")
            push.task = asyncio.create_task(websocket_client(
                push, f"{server.ws_url}/ws/push/?userId={pair[0]}&connectionId={pair[1]}", "registered"))
            sse = Collector(f"sse-{name}")
            sse.task = asyncio.create_task(sse_client(sse, session, f"{server.url}/api/notifications/stream"))
            poll = Collector(f"long-poll-{name}")
            poll.task = asyncio.create_task(long_poll_client(
                poll, session, f"{server.url}/api/notifications/poll?timeout=25"))
            transport = ("websocket", "polling")[index]
            sio_pair = ("soak-user", f"sio-{name}")
            await session.put(f"{web_a.url}/api/{sio_pair[0]}/register?connectionId={sio_pair[1]}",
                              headers={"X-AUTH-TOKEN": secret})
            sio = Collector(f"socketio-{transport}-{name}")
            client = socketio.AsyncClient(reconnection=False)
            client.on("message", sio.pushes.append)
            await client.connect(server.url, transports=[transport])
            assert await client.call("register", sio_pair, timeout=5) == {"registered": True}
            sio.ready, sio.client = True, client
            sio_clients.append(client)
            collectors += [inbox, push, sse, poll, sio]
        await wait_until(lambda: all(getattr(c, "ready", False) for c in collectors), 15, "every client")

        await asyncio.sleep(IDLE_SECONDS)

        for collector in collectors:
            assert not getattr(collector, "closed", False), f"{collector.name} was closed while idle"
            assert collector.task is None or not collector.task.done(), (
                f"{collector.name} stopped: {collector.task.exception()!r}")
        assert all(client.connected for client in sio_clients)

        # The worker makes the notification; each web process holds half the sockets.
        accepted = await asyncio.to_thread(web_b.post, "/api/events", {
            "event": "soak.ping", "to": ["soak-user"], "data": {"title": "after the idle"}}, secret)
        # A push over HTTP on one web process reaches sessions on both.
        pushed = await asyncio.to_thread(web_a.post, "/api/soak-user/push", {"message": "still here"},
                                         secret, "X-AUTH-TOKEN")
        assert pushed == {"registered_connections": 4}  # no live socket was counted as dead

        notification = await wait_for_notification(accepted["id"])
        inbox_kinds = [c for c in collectors if c.name.startswith(("ws-inbox", "sse", "long-poll"))]
        push_kinds = [c for c in collectors if c.name.startswith(("ws-push", "socketio"))]
        await wait_until(lambda: all(c.ids == [notification] for c in inbox_kinds)
                         and all(c.pushes == ["still here"] for c in push_kinds), 15,
                         "every client to receive once: " + ", ".join(
                             f"{c.name}={c.ids or c.pushes}" for c in collectors))
        for poll in (c for c in collectors if c.name.startswith("long-poll")):
            # Each idle poll came back empty at its own 25 s timeout (not a 500), then the next one.
            assert poll.polls >= 1 + int(IDLE_SECONDS // 26)
        for client in sio_clients:
            await client.eio.disconnect(abort=True)
        for collector in collectors:
            if collector.task:
                collector.task.cancel()


async def wait_for_notification(event_id: str) -> int:
    def written():
        return Notification.objects.filter(data__event_id=str(event_id)).values_list("pk", flat=True).first()

    for _ in range(300):
        if found := await asyncio.to_thread(written):
            return found
        await asyncio.sleep(0.1)
    pytest.fail("the worker never wrote the notification")


@pytest.mark.timeout(300)
def test_worker_killed_mid_broadcast_every_open_socket_still_gets_each_notification_once(production):
    servers, worker, start_worker, shared = production
    members = group_with_inbox_rule("#everyone", "soak.broadcast", 600)
    _, secret = make_api_key()
    watched = members[:: len(members) // 30][:30]  # 30 sockets, alternating web processes
    asyncio.run(_broadcast_with_a_crash(servers, worker, start_worker, shared, watched, secret))


async def _broadcast_with_a_crash(servers, worker, start_worker, shared, watched, secret) -> None:
    tokens = [(await asyncio.to_thread(servers[0].post, f"/api/subscribers/{s.external_id}/inbox-token",
                                       {}, secret))["token"] for s in watched]
    collectors = []
    for index, token in enumerate(tokens):
        collector = Collector(f"subscriber-{index}")
        server = servers[index % 2]
        collector.task = asyncio.create_task(websocket_client(
            collector, f"{server.ws_url}/ws/inbox/?token={token}", "hello"))
        collectors.append(collector)
    await wait_until(lambda: all(getattr(c, "ready", False) for c in collectors), 15, "sockets")

    events = [await asyncio.to_thread(servers[i % 2].post, "/api/events", {
        "event": "soak.broadcast", "data": {"title": f"broadcast {i}"}}, secret) for i in range(3)]
    count = sync_to_async(Notification.objects.count, thread_sensitive=False)
    for _ in range(600):  # kill it part-way through the 1,800 inbox rows
        if await count() >= 100:
            break
        await asyncio.sleep(0.02)
    await asyncio.to_thread(worker.kill)
    written_at_kill = await count()
    assert written_at_kill < 1800, "the broadcast finished before the kill; the test proves nothing"
    await asyncio.to_thread(start_worker, **shared)

    def settled() -> bool:
        sweep()  # what beat runs: expired leases and lost hand-offs go back to the worker
        return not Delivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists() and \
            Delivery.objects.count() == 1800

    for _ in range(240):
        if await asyncio.to_thread(settled):
            break
        await asyncio.sleep(0.5)
    else:
        pytest.fail("the broadcast did not finish after the worker was replaced")

    expected = {}

    def ids_of(subscriber_external_id):
        return sorted(Notification.objects.filter(subscriber__external_id=subscriber_external_id)
                      .values_list("pk", flat=True))

    for index, subscriber in enumerate(watched):
        expected[index] = await asyncio.to_thread(ids_of, subscriber.external_id)
        assert len(expected[index]) == len(events)

    await wait_until(lambda: all(sorted(set(c.ids)) == expected[i] or len(c.ids) >= 3
                                 for i, c in enumerate(collectors)), 10, "the live messages")
    for index, collector in enumerate(collectors):
        assert len(collector.ids) == len(set(collector.ids)), f"{collector.name} got a duplicate"
        missed = set(expected[index]) - set(collector.ids)
        if missed:  # reconnecting with the last id seen catches up what the crash swallowed
            server = servers[index % 2]
            caught = Collector("catch-up")
            last = max(collector.ids, default=0)
            task = asyncio.create_task(websocket_client(
                caught, f"{server.ws_url}/ws/inbox/?token={tokens[index]}&last_id={last}", "hello"))
            await wait_until(lambda caught=caught, missed=missed: len(caught.ids) >= len(missed), 5,
                             "catch-up")
            task.cancel()
            assert set(caught.ids) == missed
        collector.task.cancel()


@pytest.mark.timeout(300)
def test_sixteen_concurrent_pushers_and_broadcasts_lose_nothing(production):
    servers, _, _, _ = production
    watchers = group_with_inbox_rule("#watchers", "soak.news", 20)
    _, secret = make_api_key()
    users = [f"user-{i}" for i in range(40)]
    for index, user in enumerate(users):
        servers[index % 2].put_register(user, f"c-{user}", secret)
    asyncio.run(_concurrent(servers, users, watchers, secret))


async def _concurrent(servers, users, watchers, secret) -> None:
    push_sockets = {}
    for index, user in enumerate(users):
        collector = Collector(user)
        collector.task = asyncio.create_task(websocket_client(
            collector, f"{servers[index % 2].ws_url}/ws/push/?userId={user}&connectionId=c-{user}",
            "registered"))
        push_sockets[user] = collector
    inbox_sockets = []
    for index, subscriber in enumerate(watchers):
        minted = await asyncio.to_thread(servers[0].post, f"/api/subscribers/{subscriber.external_id}"
                                         "/inbox-token", {}, secret)
        collector = Collector(subscriber.external_id)
        collector.task = asyncio.create_task(websocket_client(
            collector, f"{servers[index % 2].ws_url}/ws/inbox/?token={minted['token']}", "hello"))
        inbox_sockets.append(collector)
    everyone = [*push_sockets.values(), *inbox_sockets]
    await wait_until(lambda: all(getattr(c, "ready", False) for c in everyone), 20, "sockets")

    def pusher(number: int) -> list[tuple[str, str]]:
        sent = []
        for step in range(25):
            user = users[(number * 25 + step) % len(users)]
            message = f"push {number}-{step}"
            servers[step % 2].post(f"/api/{user}/push", {"message": message}, secret, "X-AUTH-TOKEN")
            sent.append((user, message))
            if number < 4 and step % 5 == 0:  # four of the callers broadcast as well
                servers[step % 2].post("/api/events", {"event": "soak.news",
                                                       "data": {"title": f"news {number}-{step}"}},
                                       secret)
        return sent

    sent = [pair for batch in await asyncio.gather(
        *(asyncio.to_thread(pusher, number) for number in range(16))) for pair in batch]
    expected: dict[str, list[str]] = {user: [] for user in users}
    for user, message in sent:
        expected[user].append(message)

    def news_count() -> int:
        return Notification.objects.filter(title__startswith="news").count()

    for _ in range(300):  # the worker writes the 20 broadcasts × 20 watchers
        if await asyncio.to_thread(news_count) == 20 * 20:
            break
        await asyncio.sleep(0.1)
    await wait_until(lambda: all(len(c.pushes) >= len(expected[c.name]) for c in push_sockets.values())
                     and all(len(c.ids) >= 20 for c in inbox_sockets), 20, "every message")
    await asyncio.sleep(0.5)  # anything extra (a duplicate) would have arrived by now
    for user, collector in push_sockets.items():
        assert sorted(collector.pushes) == sorted(expected[user]), user
    for collector in inbox_sockets:
        assert len(collector.ids) == len(set(collector.ids)) == 20, collector.name
    for collector in everyone:
        collector.task.cancel()


def test_a_redis_restart_refuses_pushes_meanwhile_and_open_sockets_receive_after(private_redis, tmp_path):
    _, secret = make_api_key()
    env = environment(DATABASE_URL=_database_url(), REDIS_URL=private_redis.url,
                      SECRET_KEY=settings.SECRET_KEY, CELERY_TASK_ALWAYS_EAGER="false")
    server = WebServer(env, tmp_path / "web.log").start()
    try:
        server.put_register("bob", "c-1", secret)
        asyncio.run(_through_a_restart(server, private_redis, secret))
    finally:
        server.stop()


async def _through_a_restart(server, redis_server, secret) -> None:
    collector = Collector("bob")
    collector.task = asyncio.create_task(websocket_client(
        collector, f"{server.ws_url}/ws/push/?userId=bob&connectionId=c-1", "registered"))
    await wait_until(lambda: getattr(collector, "ready", False), 10, "the socket")

    async def push(message: str) -> tuple[int, dict]:
        async with aiohttp.ClientSession(headers={"X-AUTH-TOKEN": secret}) as http, http.post(
                f"{server.url}/api/bob/push", json={"message": message}) as answer:
            return answer.status, await answer.json()

    assert await push("before") == (200, {"registered_connections": 1})
    await asyncio.to_thread(redis_server.stop)
    status, body = await push("during")
    assert status == 503 and "Retry" in body["detail"]  # said plainly, not a 500 or a silent loss
    await asyncio.to_thread(redis_server.start)
    # Pushes are taken again as soon as Redis is back; the web process re-subscribes by itself
    # within a second or two (what is published before that misses its sockets: the window the
    # README names), and from then on the same socket — never reconnected — receives again.
    answers = []
    for attempt in range(50):
        answers.append(await push(f"after {attempt}"))
        if any(message.startswith("after") for message in collector.pushes):
            break
        await asyncio.sleep(0.2)
    else:
        pytest.fail(f"nothing reached the socket after the restart; answers: {answers}")
    assert answers[-1] == (200, {"registered_connections": 1})
    assert collector.pushes[0] == "before" and "during" not in collector.pushes
    collector.task.cancel()
