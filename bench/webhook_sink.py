"""A webhook receiver that answers 204 to every POST and counts them (aiohttp), for the
webhook benchmark.

Run as its own process (``python bench/webhook_sink.py PORT``); ``GET /count`` says how
many POSTs it has received, so each side of the benchmark can be checked for completeness.
"""

from __future__ import annotations

import sys

from aiohttp import web

received = 0


async def hook(request: web.Request) -> web.Response:
    global received
    await request.read()
    received += 1
    return web.Response(status=204)


async def count(_request: web.Request) -> web.Response:
    return web.Response(text=str(received))


async def ready(_app: web.Application) -> None:
    print("ready", flush=True)


if __name__ == "__main__":
    app = web.Application()
    app.router.add_post("/hook/{n}", hook)
    app.router.add_get("/count", count)
    app.on_startup.append(ready)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
