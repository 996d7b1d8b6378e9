"""URL parsing and the address policy: which hosts an outbound call may reach.

A URL is parsed strictly (what is checked is what is sent), its host resolved
once, and every resolved address judged: anything not globally routable is
refused unless ``settings.OUTBOUND_ALLOWED_NETWORKS`` lists it.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from notifications.http.errors import BlockedAddress, DnsError, InvalidUrl

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
_BROADCAST = ipaddress.ip_address("255.255.255.255")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_HOSTNAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?")
# Only non-ASCII is percent-encoded; the printable ASCII the user wrote is sent as written.
_PRINTABLE_ASCII = "".join(chr(c) for c in range(0x21, 0x7F))


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # ASCII, lower-case, IPv6 without brackets
    port: int
    host_header: str
    request_target: str  # path and query: may hold tokens, so never part of a message

    def __str__(self) -> str:  # the only form of the URL that messages carry
        return f"{self.scheme}://{f'[{self.host}]' if ':' in self.host else self.host}:{self.port}"


def parse_url(url: str) -> Target:
    # urlsplit silently drops some of these; refusing them keeps checked == sent.
    if not isinstance(url, str) or any(ch.isspace() or not ch.isprintable() for ch in url):
        raise InvalidUrl("URL contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidUrl("URL is malformed (bad IPv6 literal or port)") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise InvalidUrl(f"URL scheme {scheme!r} is not allowed; use http or https")
    if "@" in parts.netloc:
        raise InvalidUrl("URL must not contain credentials (user:password@); they reach logs")
    host = parts.hostname or ""
    if not host:
        raise InvalidUrl("URL has no host")
    default_port = 443 if scheme == "https" else 80
    port = default_port if port is None else port
    if not 1 <= port <= 65535:
        raise InvalidUrl("URL port must be between 1 and 65535")
    try:
        is_ipv6 = ipaddress.ip_address(host).version == 6
    except ValueError:
        is_ipv6 = False
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidUrl("URL host is not a valid domain name") from None
        if len(host) > 253 or not _HOSTNAME.fullmatch(host):
            raise InvalidUrl("URL host is not a valid domain name") from None
    shown = f"[{host}]" if is_ipv6 else host
    host_header = shown if port == default_port else f"{shown}:{port}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme, host, port, host_header, quote(path, safe=_PRINTABLE_ASCII))


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for item in settings.OUTBOUND_ALLOWED_NETWORKS:
        if item.strip():
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError:
                raise ImproperlyConfigured(
                    f"OUTBOUND_ALLOWED_NETWORKS: {item!r} is not a network") from None
    return networks


def refusal_reason(ip: IPAddress) -> str | None:
    """Return why ``ip`` may not be called (e.g. "loopback"), or None when it is public."""
    if ip.version == 6:
        # An address that carries an IPv4 address is judged by the IPv4 it leads to.
        embedded = ip.ipv4_mapped or (
            ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None)
        if embedded is not None:
            why = refusal_reason(embedded)
            return f"IPv4-embedded {embedded} is {why}" if why else None
        if ip.sixtofour is not None and (why := refusal_reason(ip.sixtofour)):
            return f"6to4 for {ip.sixtofour}, which is {why}"
        if ip.teredo is not None:
            return "Teredo tunnel"
        if ip.is_site_local:
            return "site-local"
    elif ip in _THIS_NETWORK:
        return "unspecified" if ip.is_unspecified else "'this network' (0.0.0.0/8)"
    elif ip == _BROADCAST:
        return "broadcast"
    elif ip in _CGNAT:
        return "shared address space (CGNAT 100.64.0.0/10)"
    for flag, why in (("is_loopback", "loopback"), ("is_unspecified", "unspecified"),
                      ("is_link_local", "link-local"), ("is_multicast", "multicast"),
                      ("is_reserved", "reserved"), ("is_private", "private")):
        if getattr(ip, flag):
            return why
    return None if ip.is_global else "not globally routable"


def resolve(target: Target) -> list[str]:
    """The host's addresses, in the resolver's order; raise ``DnsError`` when there are none."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise DnsError(f"could not resolve {target.host}: "
                       f"{getattr(exc, 'strerror', None) or type(exc).__name__}") from None
    ips = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not ips:
        raise DnsError(f"{target.host} has no addresses")
    return ips


def ip_refusal(text: str) -> str | None:
    """Why a literal address may not be dialled under the policy (None: it may): the
    refusal reason, unless ``OUTBOUND_ALLOWED_NETWORKS`` lists the address."""
    ip = ipaddress.ip_address(text)
    candidates = [ip, ip.ipv4_mapped] if ip.version == 6 and ip.ipv4_mapped else [ip]
    if any(c.version == n.version and c in n for c in candidates for n in _allowed_networks()):
        return None
    return refusal_reason(ip)


def resolve_checked(target: Target) -> list[str]:
    # The only resolution: everything after this dials these literal, checked IPs.
    ips = resolve(target)
    for text in ips:
        if reason := ip_refusal(text):
            raise BlockedAddress(target.host, text, reason)
    return ips
