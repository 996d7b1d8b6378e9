"""A real SMTP server for tests (aiosmtpd), with a scriptable reply per message.

``replies`` is consumed one entry per DATA command: ``"250 OK"`` accepts,
``"451 …"`` / ``"550 …"`` refuse, ``"hang"`` blocks until ``release`` is set
(standing in for a server that stalls while a worker is killed).
"""

from __future__ import annotations

import email
import socket
import threading
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller


@dataclass
class RecordingHandler:
    replies: list[str] = field(default_factory=list)
    messages: list[email.message.Message] = field(default_factory=list)
    entered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 — aiosmtpd's hook name
        reply = self.replies.pop(0) if self.replies else "250 OK"
        self.entered.set()
        if reply == "hang":
            import asyncio

            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 Try again later"
        if reply.startswith("250"):
            message = email.message_from_bytes(envelope.content)
            message["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
            self.messages.append(message)
        return reply


def _free_port() -> int:
    # aiosmtpd's start-up self-check needs the port up front, so ask the OS for one.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    def __init__(self) -> None:
        self.handler = RecordingHandler()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=_free_port())

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.handler.release.set()
        self.controller.stop()

    @property
    def port(self) -> int:
        return self.controller.port

    @property
    def messages(self) -> list[email.message.Message]:
        return self.handler.messages
