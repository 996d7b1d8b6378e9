"""Apprise cannot be steered at this machine or its network: every socket it opens is checked.

Listeners on 127.0.0.1 and ::1 count every connection (TCP) and datagram (UDP) that
reaches them; each URL below is a way of pointing an Apprise plugin at them, directly or
through a parameter, an alternative spelling or a redirect. With the default policy (no
``OUTBOUND_ALLOWED_NETWORKS``) none may arrive, and each delivery fails permanently with
the reason.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError

from notifications.addresses import APPRISE_UNCHECKABLE_SCHEMES, address_validate
from notifications.http.socket_guard import RefusedConnection, sockets_guarded
from notifications.providers import PermanentError, TransientError
from notifications.providers.apprise import AppriseProvider
from tests.factories import make_api_key
from tests.notifications.providers.factories import pending_delivery

pytestmark = pytest.mark.django_db


class Listener:
    """Accepts and counts connections (TCP) or datagrams (UDP) on a loopback address."""

    def __init__(self, family: int, host: str, kind: int = socket.SOCK_STREAM):
        self.sock = socket.socket(family, kind)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self.stream = kind == socket.SOCK_STREAM
        if self.stream:
            self.sock.listen(16)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                if self.stream:
                    conn, _ = self.sock.accept()
                    conn.close()
                else:
                    self.sock.recvfrom(65536)
            except OSError:
                return
            self.hits += 1

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def listeners() -> Iterator[dict[str, Listener]]:
    opened = {"v4": Listener(socket.AF_INET, "127.0.0.1"),
              "v6": Listener(socket.AF_INET6, "::1"),
              "udp": Listener(socket.AF_INET, "127.0.0.1", socket.SOCK_DGRAM)}
    yield opened
    for listener in opened.values():
        listener.close()


@pytest.fixture(autouse=True)
def default_policy(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = []


SPELLINGS = [
    "json://127.0.0.1:{v4}/notify",
    "jsons://127.0.0.1:{v4}/notify",
    "form://127.0.0.1:{v4}/",
    "xml://127.0.0.1:{v4}/",
    "xml://[::1]:{v6}/",
    "json://[::1]:{v6}/",
    "json://localhost:{v4}/",
    "json://127.1:{v4}/",
    "json://2130706433:{v4}/",
    "json://0x7f000001:{v4}/",
    "json://0177.0.0.1:{v4}/",
    "json://0.0.0.0:{v4}/",
    "json://[::ffff:127.0.0.1]:{v4}/",
    "json://[::]:{v6}/",
    "gotify://127.0.0.1:{v4}/AbCdEfGhIjKlMnO",
    "ntfy://127.0.0.1:{v4}/alerts",
    "mmost://127.0.0.1:{v4}/3ccdd113474722377935511fc85d3dd4",
    "apprise://127.0.0.1:{v4}/config-key",
    "mailto://user:secret@example.com?smtp=127.0.0.1&port={v4}&from=a@example.com",
    "mailtos://user:secret@example.com?smtp=::1&port={v6}&from=a@example.com",
    "mailto://user:secret@127.0.0.1:{v4}?from=a@example.com",
    "rsyslog://127.0.0.1:{udp}/",
]


@pytest.mark.parametrize("template", SPELLINGS)
def test_no_spelling_reaches_loopback(template, listeners):
    url = template.format(**{name: item.port for name, item in listeners.items()})

    with pytest.raises((PermanentError, TransientError)) as failure:
        AppriseProvider().send(pending_delivery("apprise", url))

    assert sum(item.hits for item in listeners.values()) == 0, url
    # Either the address policy refused the connection, or Apprise could not use the URL
    # at all; never a connection.
    assert isinstance(failure.value, PermanentError) or "refused" in str(failure.value)


def test_refusal_names_the_address_and_reason(listeners):
    url = f"xml://[::1]:{listeners['v6'].port}/"
    with pytest.raises(PermanentError, match=r"connecting to ::1 .*refused: loopback"):
        AppriseProvider().send(pending_delivery("apprise", url))


def test_smtp_server_named_in_a_parameter_is_checked(listeners):
    url = (f"mailto://user:secret@example.com?smtp=127.0.0.1&port={listeners['v4'].port}"
           f"&from=a@example.com")
    with pytest.raises(PermanentError, match=r"127\.0\.0\.1.*refused: loopback"):
        AppriseProvider().send(pending_delivery("apprise", url))
    assert listeners["v4"].hits == 0


class _Redirect(BaseHTTPRequestHandler):
    location = ""

    def do_POST(self):  # noqa: N802 - the handler's API
        self.send_response(302)
        self.send_header("Location", self.location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_redirect_is_not_followed(settings, listeners):
    # The first hop is allowed on purpose; where it sends Apprise next is not.
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    handler = type("Redirect", (_Redirect,), {"location": f"http://[::1]:{listeners['v6'].port}/"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(PermanentError, match="redirect"):
            AppriseProvider().send(pending_delivery(
                "apprise", f"json://127.0.0.1:{server.server_port}/"))
    finally:
        server.shutdown()
    assert listeners["v6"].hits == 0


def test_allowed_networks_still_reach_their_service(settings, listeners):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["::1/128"]
    with pytest.raises(TransientError):  # the listener hangs up without answering HTTP
        AppriseProvider().send(pending_delivery("apprise", f"json://[::1]:{listeners['v6'].port}/"))
    assert listeners["v6"].hits == 1


def test_the_guard_leaves_other_threads_alone(listeners):
    reached = []

    def elsewhere():
        with socket.create_connection(("127.0.0.1", listeners["v4"].port)):
            reached.append(True)

    with sockets_guarded():
        with pytest.raises(RefusedConnection):
            socket.create_connection(("127.0.0.1", listeners["v4"].port))
        # A thread that was running before the guard began is not guarded...
        other = threading.Thread(target=elsewhere)
    other.start()  # ...and neither is one started after it ended.
    other.join()
    assert reached == [True]


def test_threads_started_inside_the_guard_are_guarded(listeners):
    outcome = []

    def inside():
        try:
            socket.create_connection(("127.0.0.1", listeners["v4"].port))
            outcome.append("connected")
        except RefusedConnection:
            outcome.append("refused")

    with sockets_guarded():
        worker = threading.Thread(target=inside)
        worker.start()
        worker.join()
    assert outcome == ["refused"]
    assert listeners["v4"].hits == 0


def test_unix_sockets_are_refused(tmp_path):
    with sockets_guarded() as guard, socket.socket(socket.AF_UNIX) as sock:
        with pytest.raises(RefusedConnection):
            sock.connect(str(tmp_path / "daemon.sock"))
    assert "AF_UNIX" in guard.refusals[0]


@pytest.mark.parametrize("scheme", sorted(APPRISE_UNCHECKABLE_SCHEMES))
def test_schemes_the_policy_cannot_check_are_refused_on_entry(scheme):
    with pytest.raises(ValidationError, match="cannot check"):
        address_validate(channel="apprise", address=f"{scheme}://")


def test_integrators_cannot_name_apprise_targets(client):
    _key, secret = make_api_key()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    target = "json://hooks.example.com/notify"

    event = client.post("/api/events", {"event": "x", "to": [{"apprise": target}]},
                        content_type="application/json", **auth)
    subscriber = client.post("/api/subscribers", {"external_id": "u1", "channel_addresses": {
        "apprise": target}}, content_type="application/json", **auth)
    group = client.post("/api/groups", {"name": "#ops", "targets": [
        {"channel": "apprise", "address": target}]}, content_type="application/json", **auth)

    for response in (event, subscriber, group):
        assert response.status_code == 400, response.content
        assert b"Apprise targets are set by staff" in response.content
