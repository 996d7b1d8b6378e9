"""An SMTP server that accepts and drops every message (aiosmtpd), for the e-mail benchmark.

Run as its own process (``python bench/smtp_sink.py PORT``) so neither side of
the benchmark shares its interpreter with the server both of them talk to.
"""

from __future__ import annotations

import signal
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    async def handle_DATA(self, server, session, envelope):  # noqa: N802 — aiosmtpd's hook name
        return "250 OK"


if __name__ == "__main__":
    controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
    controller.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    controller.stop()
