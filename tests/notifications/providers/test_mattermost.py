"""Mattermost: bot mode (API v4 posts) and incoming webhooks, with the server's answers."""

from __future__ import annotations

import pytest

from notifications.models import DeliveryStatus
from notifications.providers import NotConfigured, PermanentError, TransientError
from notifications.providers.mattermost import MattermostProvider
from tests.notifications.providers.factories import (
    chat_rule,
    only_delivery,
    pending_delivery,
    trigger,
)
from tests.notifications.providers.fake_service import Reply, scripted

pytestmark = pytest.mark.django_db

CHANNEL_ID = "4xp9fdt77pncbef59f4k1qe83o"
BOT_TOKEN = "mm-bot-token-123"
HOOK_PATH = "/hooks/x3kz8mz9ffdqmnbyo4wx3zeq4c"


def api_error(status: int, error_id: str, message: str) -> Reply:
    return Reply(status, {"id": error_id, "message": message, "detailed_error": "",
                          "request_id": "r1", "status_code": status})


@pytest.fixture
def bot(service, settings):
    """A Mattermost server the operator configured (on loopback: trusted, no allowlist)."""
    def start(*replies: Reply):
        server = service(scripted(*replies))
        settings.OUTBOUND_ALLOWED_NETWORKS = []
        settings.MATTERMOST_URL = server.url
        settings.MATTERMOST_BOT_TOKEN = BOT_TOKEN
        return server
    return start


def test_bot_posts_markdown_to_the_channel_and_keeps_the_post_id(
        bot, django_capture_on_commit_callbacks):
    server = bot(Reply(201, {"id": "post-id-1", "channel_id": CHANNEL_ID, "message": "…"}))
    chat_rule("mattermost")

    event = trigger(django_capture_on_commit_callbacks, to=[{"mattermost": CHANNEL_ID}])

    delivery = only_delivery(event)
    [request] = server.requests
    assert (request.method, request.path) == ("POST", "/api/v4/posts")
    assert request.headers["Authorization"] == f"Bearer {BOT_TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.json == {
        "channel_id": CHANNEL_ID,
        "message": "#### Order A-17 shipped\n\nOrder **A-17** is on its way.\n\n"
                   "[Open](https://shop.example.com/orders/A-17)",
        "props": {"clarion_delivery": str(delivery.pk)},
        "pending_post_id": f"clarion-{delivery.pk.hex}",
    }
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.provider_message_id == "post-id-1"


def test_a_rejected_bot_token_is_retried_and_names_the_setting(bot):
    # The operator's setting, not the recipient's fault: retried while it is fixed.
    bot(api_error(401, "api.context.session_expired.app_error", "Invalid token"))

    with pytest.raises(TransientError) as failure:
        MattermostProvider().send(pending_delivery("mattermost", CHANNEL_ID))

    assert "check MATTERMOST_BOT_TOKEN" in str(failure.value)


@pytest.mark.parametrize("status, error_id, hint", [
    (400, "api.post.create_post.message_length.app_error", "refused the message (400)"),
    (403, "api.context.permissions.app_error", "add it to the channel"),
    (404, "app.channel.get.existing.app_error", "does not exist"),
])
def test_bot_client_errors_are_permanent_with_the_servers_message(bot, status, error_id, hint):
    bot(api_error(status, error_id, "The server says no."))

    with pytest.raises(PermanentError) as failure:
        MattermostProvider().send(pending_delivery("mattermost", CHANNEL_ID))

    assert hint in str(failure.value) and "The server says no." in str(failure.value)


def test_bot_rate_limit_waits_for_the_reset(bot):
    bot(Reply(429, {"message": "Too many requests"},
              {"X-Ratelimit-Limit": "10", "X-Ratelimit-Remaining": "0",
               "X-Ratelimit-Reset": "4"}))
    with pytest.raises(TransientError) as failure:
        MattermostProvider().send(pending_delivery("mattermost", CHANNEL_ID))
    assert failure.value.retry_after == 4.0


def test_bot_server_error_is_transient(bot):
    bot(Reply(500, {"message": "db down"}))
    with pytest.raises(TransientError, match="500"):
        MattermostProvider().send(pending_delivery("mattermost", CHANNEL_ID))


def test_channel_id_without_bot_configuration_is_not_configured(settings):
    settings.MATTERMOST_URL = settings.MATTERMOST_BOT_TOKEN = ""
    with pytest.raises(NotConfigured, match="set MATTERMOST_URL and MATTERMOST_BOT_TOKEN"):
        MattermostProvider().send(pending_delivery("mattermost", CHANNEL_ID))


def test_the_pipeline_records_a_missing_bot_configuration_as_skipped(settings):
    from notifications.services.direct import delivery_send_now

    settings.MATTERMOST_URL = settings.MATTERMOST_BOT_TOKEN = ""
    delivery = delivery_send_now(delivery=pending_delivery("mattermost", CHANNEL_ID))
    assert (delivery.status, delivery.skip_reason) == (DeliveryStatus.SKIPPED, "not_configured")
    assert "MATTERMOST_URL" in delivery.last_error


def test_webhook_posts_text_and_needs_no_server_settings(service, allow_loopback, settings):
    settings.MATTERMOST_URL = settings.MATTERMOST_BOT_TOKEN = ""
    hook = service(scripted(Reply(200, b"ok")))

    MattermostProvider().send(pending_delivery("mattermost", hook.url + HOOK_PATH,
                                               {"short_body": "Backup **done**"}))

    [request] = hook.requests
    assert (request.method, request.path) == ("POST", HOOK_PATH)
    assert request.json == {"text": "Backup **done**"}
    assert "Authorization" not in request.headers


@pytest.mark.parametrize("reply, error", [
    (Reply(400, "Unable to parse incoming data"), PermanentError),
    (Reply(403, "Incoming webhooks have been disabled by the system admin."), PermanentError),
    (Reply(404, {"message": "Unable to find the webhook."}), PermanentError),
    (Reply(429, "slow down", {"Retry-After": "3"}), TransientError),
    (Reply(502, "Bad gateway"), TransientError),
])
def test_webhook_errors_are_classified(service, allow_loopback, reply, error):
    hook = service(scripted(reply))
    with pytest.raises(error):
        MattermostProvider().send(pending_delivery("mattermost", hook.url + HOOK_PATH))


def test_webhook_on_a_private_address_is_refused(service, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    hook = service(scripted(Reply(200, b"ok")))
    with pytest.raises(PermanentError, match="loopback"):
        MattermostProvider().send(pending_delivery("mattermost", hook.url + HOOK_PATH))
    assert hook.requests == []


class MattermostServer:
    """Stores posts like a Mattermost server and can drop the answer to the next one."""

    def __init__(self) -> None:
        self.posts: dict[str, dict] = {}
        self.drop_next_post = False

    def __call__(self, request):
        from tests.notifications.providers.fake_service import DROP

        if request.headers.get("Authorization") != f"Bearer {BOT_TOKEN}":
            return api_error(401, "api.context.session_expired.app_error", "Invalid token")
        if request.method == "POST" and request.path == "/api/v4/posts":
            post = {**request.json, "id": f"post{len(self.posts) + 1}"}
            self.posts[post["id"]] = post
            if self.drop_next_post:
                self.drop_next_post = False
                return DROP
            return Reply(201, post)
        if request.method == "GET" and request.path.startswith(
                f"/api/v4/channels/{CHANNEL_ID}/posts?since="):
            return Reply(200, {"order": list(self.posts), "posts": self.posts})
        return api_error(404, "api.context.404.app_error", "Not found")


def test_retry_after_a_lost_answer_finds_the_earlier_post_instead_of_posting_again(
        service, settings, django_capture_on_commit_callbacks):
    from notifications.services.sweeper import sweep

    mm = MattermostServer()
    mm.drop_next_post = True
    server = service(mm)
    settings.MATTERMOST_URL, settings.MATTERMOST_BOT_TOKEN = server.url, BOT_TOKEN
    chat_rule("mattermost")

    delivery = only_delivery(trigger(django_capture_on_commit_callbacks,
                                     to=[{"mattermost": CHANNEL_ID}]))
    assert delivery.status == DeliveryStatus.QUEUED
    with django_capture_on_commit_callbacks(execute=True):
        sweep()

    delivery.refresh_from_db()
    assert [r.method for r in server.requests] == ["POST", "GET"]
    assert len(mm.posts) == 1
    assert delivery.status == DeliveryStatus.SENT and delivery.provider_message_id == "post1"


def test_retry_posts_when_the_earlier_attempt_never_arrived(service, settings,
                                                            django_capture_on_commit_callbacks):
    from notifications.services.sweeper import sweep

    mm = MattermostServer()
    server = service(lambda request: (Reply(503, {"message": "starting up"})
                                      if len(server.requests) == 1 else mm(request)))
    settings.MATTERMOST_URL, settings.MATTERMOST_BOT_TOKEN = server.url, BOT_TOKEN
    chat_rule("mattermost")

    delivery = only_delivery(trigger(django_capture_on_commit_callbacks,
                                     to=[{"mattermost": CHANNEL_ID}]))
    with django_capture_on_commit_callbacks(execute=True):
        sweep()

    delivery.refresh_from_db()
    assert [r.method for r in server.requests] == ["POST", "GET", "POST"]
    assert len(mm.posts) == 1 and delivery.status == DeliveryStatus.SENT
