"""The address of the client a request came from, as the trusted proxies saw it.

Each trusted proxy in front of the site appends the address it was reached
from to `X-Forwarded-For`; whatever the client sent comes before those
entries. With MRA_TRUSTED_PROXY_HOPS proxies, the client is therefore the
entry that many places from the right, and nothing to its left is believed:

- locally, 1: the front door (HAProxy, `option forwardfor`);
- on AWS, 2: CloudFront appends the viewer's address, then API Gateway the
  CloudFront edge's (Zappa's REMOTE_ADDR is the same second entry from the
  right);
- 0: no proxy, the connection's own address (REMOTE_ADDR).

A request with fewer entries than hops did not pass every proxy (a regional
address, reached directly): its leftmost entry is the first proxy's view, or
REMOTE_ADDR when there is none.
"""

import ipaddress
from collections.abc import Mapping
from typing import Any, Protocol

from django.conf import settings

# Longer than any IPv6 address with a zone: anything longer is not an address.
_MAX_LENGTH = 64


def forwarded_client(*, forwarded_for: str, remote_addr: str, hops: int) -> str:
    """The client's address from an X-Forwarded-For value and the connection's address."""
    entries = [entry.strip() for entry in forwarded_for.split(",") if entry.strip()]
    if hops <= 0 or not entries:
        return _address(remote_addr) or "unknown"
    chosen = entries[-hops] if len(entries) >= hops else entries[0]
    return _address(chosen) or _address(remote_addr) or "unknown"


def _address(value: str) -> str:
    if len(value) > _MAX_LENGTH:
        return ""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return ""


class _Request(Protocol):
    # A Django request, or a DRF one (which passes META through).
    @property
    def META(self) -> Mapping[str, Any]: ...


def client_address(request: _Request) -> str:
    """The address of the client that sent `request` (see the module's docstring)."""
    return forwarded_client(
        forwarded_for=request.META.get("HTTP_X_FORWARDED_FOR", ""),
        remote_addr=request.META.get("REMOTE_ADDR", ""),
        hops=settings.MRA_TRUSTED_PROXY_HOPS,
    )
