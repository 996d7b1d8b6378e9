"""An inbox token given in a URL (``?token=``) never reaches the server's log.

A real uvicorn process of the embedded installation, its access log on as
deployments have it: the long-poll, stream and WebSocket URLs carry the token
the way a browser must send it, and the log file is read afterwards.
"""

from __future__ import annotations

import asyncio
import urllib.request

from websockets.asyncio.client import connect

from tests.processes import WebServer


def test_tokens_in_urls_are_redacted_from_the_access_log(embedded, tmp_path):
    env, secret, start = embedded
    server = start(WebServer(env, tmp_path / "web.log"))
    token = server.post("/api/subscribers/demo-user/inbox-token", {}, secret)["token"]
    with urllib.request.urlopen(  # noqa: S310 — local server
            f"{server.url}/api/notifications/poll?timeout=0&token={token}", timeout=10) as answer:
        assert answer.status == 200

    async def open_socket() -> None:
        async with connect(f"{server.ws_url}/ws/inbox/?token={token}",
                           additional_headers={"Origin": server.url}):
            pass

    asyncio.run(open_socket())
    server.stop()
    log = server.output()
    assert token not in log
    assert "/api/notifications/poll?timeout=0&token=[redacted]" in log
    assert "/ws/inbox/?token=[redacted]" in log
