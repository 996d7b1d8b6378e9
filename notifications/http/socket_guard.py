"""The address policy for libraries that open their own sockets (Apprise and its plugins).

The outbound door checks a URL before it dials; a library that makes its own connections
(Apprise's hundred plugins: HTTP through requests, SMTP through smtplib, MQTT, XMPP, syslog
over UDP, ...) cannot be checked that way, because which hosts it will contact is only
known inside it: an ``smtp=`` parameter, an IPv6 literal the plugin parses itself, a
redirect. So the check moves to the last place every Python connection passes:
``socket.connect``/``connect_ex``/``sendto``/``sendmsg``. Inside ``sockets_guarded()``
each destination is judged by the same policy as the door (``ip_refusal``) on the literal
address being dialled — after the library's own DNS lookup, so a rebinding answer cannot
slip past — and a host name handed straight to ``connect`` is resolved, checked and
replaced by the checked address. Anything that is not an IPv4/IPv6 socket (a Unix socket
to a local daemon) is refused. Redirects that requests would follow are refused too.

The guard is a context variable: it holds in the code that entered it, in work that code
hands to a pool with its context (Apprise runs each service call in a shared pool that
way), in its asyncio tasks, and in threads it starts while inside (plugins with their own
event-loop thread, for that thread's whole life). Other threads of the process (the
database, the broker) are never affected. Networking done
in C below Python (D-Bus, desktop notifiers) is out of its reach: those schemes are refused
where an Apprise URL is entered (``notifications.addresses``).
"""

from __future__ import annotations

import contextvars
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from notifications.http.addresses import ip_refusal

_GUARD: contextvars.ContextVar[SocketGuard | None] = contextvars.ContextVar(
    "clarion_socket_guard", default=None)
_INTERNET = (socket.AF_INET, socket.AF_INET6)
_install_lock = threading.Lock()
_installed = False


class RefusedConnection(ConnectionRefusedError):
    """A guarded library tried to reach an address the policy refuses.

    A ``ConnectionError`` on purpose: libraries report it as a failed connection and go on.
    """


@dataclass
class SocketGuard:
    """What one guarded send refused; read after the library has returned."""

    refusals: list[str] = field(default_factory=list)

    def refuse(self, why: str) -> RefusedConnection:
        self.refusals.append(why)
        return RefusedConnection(why)


def _guard() -> SocketGuard | None:
    return _GUARD.get()


def _checked(sock: socket.socket, address, guard: SocketGuard):
    """``address`` as it may be dialled (a host name replaced by its checked address)."""
    if sock.family not in _INTERNET:
        raise guard.refuse(f"connecting a {sock.family.name} socket is refused: only internet "
                           f"addresses can be checked")
    host, port, *rest = address
    try:
        infos = socket.getaddrinfo(host, port, sock.family, sock.type)
    except OSError as exc:
        raise guard.refuse(f"connecting to {host} is refused: it does not resolve ({exc})"
                           ) from None
    text = str(infos[0][4][0]) if infos else str(host)
    for info in infos:
        # A literal resolves to itself; a name may resolve to several: every one must pass.
        if reason := ip_refusal(str(info[4][0]).split("%")[0]):
            raise guard.refuse(f"connecting to {host} ({info[4][0]}) is refused: {reason}")
    return (text, port, *rest)


def _wrap_address_method(name: str, position: int) -> None:
    original = getattr(socket.socket, name)

    def guarded(self, *args, **kwargs):
        guard = _guard()
        # Without the address argument (sendmsg on a connected socket) the destination
        # was checked when the socket connected.
        if guard is not None and len(args) > position:
            args = (*args[:position], _checked(self, args[position], guard), *args[position + 1:])
        return original(self, *args, **kwargs)

    guarded.__name__ = name
    setattr(socket.socket, name, guarded)


def _wrap_redirects() -> None:
    from requests.sessions import SessionRedirectMixin

    original = SessionRedirectMixin.get_redirect_target

    def no_redirects_when_guarded(self, response):
        target = original(self, response)
        guard = _guard()
        if target and guard is not None:
            guard.refusals.append(f"following a redirect (HTTP {response.status_code}) is "
                                  f"refused: redirects are not followed")
            return None  # requests then hands the 3xx back instead of following it
        return target

    SessionRedirectMixin.get_redirect_target = no_redirects_when_guarded


def _wrap_thread_start() -> None:
    original = threading.Thread.start

    def start_inheriting_guard(self):
        # A new thread starts with an empty context; one started under the guard runs in a
        # copy of its starter's, guard included.
        if _guard() is not None:
            context, run = contextvars.copy_context(), self.run
            self.run = lambda: context.run(run)
        return original(self)

    threading.Thread.start = start_inheriting_guard


def _install() -> None:
    global _installed
    with _install_lock:
        if _installed:
            return
        # connect(address), connect_ex(address), sendto(data, [flags,] address): the address
        # is the last positional argument; sendmsg(buffers, ancdata, flags, address).
        _wrap_address_method("connect", 0)
        _wrap_address_method("connect_ex", 0)
        _wrap_sendto()
        _wrap_address_method("sendmsg", 3)
        _wrap_redirects()
        _wrap_thread_start()
        _installed = True


def _wrap_sendto() -> None:
    original = socket.socket.sendto

    def guarded(self, data, *args):
        guard = _guard()
        if guard is not None and args:
            args = (*args[:-1], _checked(self, args[-1], guard))
        return original(self, data, *args)

    guarded.__name__ = "sendto"
    socket.socket.sendto = guarded


@contextmanager
def sockets_guarded() -> Iterator[SocketGuard]:
    """Check every connection opened in this context (and threads it starts) until the end."""
    _install()
    guard = SocketGuard()
    token = _GUARD.set(guard)
    try:
        yield guard
    finally:
        _GUARD.reset(token)
