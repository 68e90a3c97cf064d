"""The client's address: counted from the right of X-Forwarded-For by the trusted hops."""

import pytest
from django.test import RequestFactory

from mra_site.clientaddr import client_address


def _request(*, forwarded_for: str | None, remote_addr: str = "10.0.0.9"):
    extra = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return RequestFactory().post("/api/auth/token", **extra)


@pytest.mark.parametrize(
    ("hops", "forwarded_for", "expected"),
    [
        # No proxy trusted: the connection's address, whatever the header says.
        (0, "1.2.3.4", "10.0.0.9"),
        (0, None, "10.0.0.9"),
        # Behind the door: HAProxy appends the address it was reached from.
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "1.2.3.4, 203.0.113.7", "203.0.113.7"),
        (1, "1.2.3.4, 5.6.7.8, 203.0.113.7", "203.0.113.7"),
        # On AWS: CloudFront appends the viewer, API Gateway the edge.
        (2, "203.0.113.7, 130.176.0.1", "203.0.113.7"),
        (2, "1.2.3.4, 203.0.113.7, 130.176.0.1", "203.0.113.7"),
        # Fewer entries than hops: the first proxy's view.
        (2, "203.0.113.7", "203.0.113.7"),
        # No header: the connection.
        (1, None, "10.0.0.9"),
        (1, "", "10.0.0.9"),
        # What a trusted proxy appended is an address, or the connection is used.
        (1, "1.2.3.4, not-an-address", "10.0.0.9"),
        (1, "1.2.3.4, " + "9" * 500, "10.0.0.9"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_address_counts_trusted_hops_from_the_right(settings, hops, forwarded_for, expected):
    settings.MRA_TRUSTED_PROXY_HOPS = hops
    assert client_address(_request(forwarded_for=forwarded_for)) == expected


def test_a_spoofed_forwarded_for_through_the_door_keeps_the_bucket(settings):
    """The door appends a second X-Forwarded-For line, which gunicorn joins after
    the client's own: whatever the client sends, its address is the door's entry."""
    settings.MRA_TRUSTED_PROXY_HOPS = 1
    honest = _request(forwarded_for="198.51.100.20", remote_addr="127.0.0.1")
    spoofed = _request(forwarded_for="1.2.3.4,198.51.100.20", remote_addr="127.0.0.1")
    assert client_address(honest) == client_address(spoofed) == "198.51.100.20"
