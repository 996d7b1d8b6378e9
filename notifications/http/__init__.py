"""The one door for HTTP calls to user-configured URLs (webhooks, Slack, Teams, Matrix, ...).

The host is resolved once; the call is refused if any resolved address is not public
(loopback, private, link-local, CGNAT, IPv4 embedded in IPv6, ...) unless
``settings.OUTBOUND_ALLOWED_NETWORKS`` lists it; then the checked IP itself is dialled with
the original Host header and, for HTTPS, the original name for SNI and certificate checks,
so a DNS answer that changes after the check cannot steer the call. Redirects are returned,
not followed; one deadline covers connect, send and read; the body is read up to a cap; no
retries (callers own that). Messages name scheme, host, port and IP, never query strings,
headers or bodies, which carry tokens.
"""

from __future__ import annotations

from notifications.http.addresses import IPAddress
from notifications.http.client import (
    USER_AGENT,
    OutboundCall,
    outbound_request,
    outbound_requests,
    url_check,
)
from notifications.http.errors import (
    BadResponse,
    BlockedAddress,
    ConnectError,
    DnsError,
    InvalidUrl,
    OutboundError,
    OutboundResponse,
    OutboundTimeout,
    TlsError,
)

__all__ = ["USER_AGENT", "BadResponse", "BlockedAddress", "ConnectError", "DnsError", "IPAddress",
           "InvalidUrl", "OutboundCall", "OutboundError", "OutboundResponse", "OutboundTimeout",
           "TlsError", "outbound_request", "outbound_requests", "url_check"]
