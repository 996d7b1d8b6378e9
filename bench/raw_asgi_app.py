"""The comparison for the live benchmarks: a minimal raw ASGI WebSocket app, no framework.

``/ws/<user>`` holds a socket for a user; ``POST /broadcast`` sends the body to
every socket; ``POST /push/<user>`` sends it to that user's sockets. It does
the least any server must do, so Clarion's figures are read as a ratio to it.
Served by the same uvicorn, with the same flags, as Clarion.
"""

from __future__ import annotations

from collections import defaultdict

sockets: dict[str, set] = defaultdict(set)


async def _body(receive) -> str:
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks).decode()


async def app(scope, receive, send) -> None:
    path = scope["path"]
    if scope["type"] == "websocket":
        user = path.rsplit("/", 1)[-1]
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        sockets[user].add(send)
        try:
            while (await receive())["type"] != "websocket.disconnect":
                pass
        finally:
            sockets[user].discard(send)
    elif scope["type"] == "http":
        text = await _body(receive)
        targets = [s for group in sockets.values() for s in group] if path == "/broadcast" else list(
            sockets.get(path.rsplit("/", 1)[-1], ()))
        for socket_send in targets:
            await socket_send({"type": "websocket.send", "text": text})
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": str(len(targets)).encode()})
