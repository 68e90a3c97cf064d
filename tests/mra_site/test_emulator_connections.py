"""The emulator keeps connections open between requests, as AWS's endpoints do,
and never lets one request's unread body become the next request."""

import http.client
import uuid
from urllib.parse import urlparse

import urllib3

from mra_site.aws.clients import _build, _options
from mra_site.resources import media_bucket
from tests.conftest import PRIMARY


def _connection(emulators) -> http.client.HTTPConnection:
    url = urlparse(emulators[PRIMARY].url)
    return http.client.HTTPConnection(url.hostname, url.port, timeout=10)


def _get(connection: http.client.HTTPConnection) -> http.client.HTTPResponse:
    connection.request("GET", "/moto-api/")
    response = connection.getresponse()
    response.read()
    return response


def test_requests_share_one_connection(aws, emulators):
    connection = _connection(emulators)
    first = _get(connection)
    socket = connection.sock
    second = _get(connection)

    assert (first.status, second.status) == (200, 200)
    assert first.getheader("Connection") is None
    # http.client drops its socket when the answer says it closes the connection.
    assert connection.sock is socket is not None
    connection.close()


def test_a_body_left_unread_does_not_become_the_next_request(aws, emulators):
    connection = _connection(emulators)
    # The dashboard answers a POST without reading its body.
    connection.request("POST", "/moto-api/", body=b"x" * 1_000_000)
    ignored = connection.getresponse()
    ignored.read()
    socket = connection.sock
    chunks = (b"GET /moto-api/ HTTP/1.1\r\n\r\n" * 1000 for _ in range(3))
    connection.request("POST", "/moto-api/", body=chunks, encode_chunked=True)
    ignored_chunked = connection.getresponse()
    ignored_chunked.read()
    after = _get(connection)

    # Unread, the first body would be read as the next request line (414).
    assert (ignored.status, ignored_chunked.status, after.status) == (200, 200, 200)
    # Answered on the same connection: the unread bodies were discarded, not the connection.
    assert connection.sock is socket is not None


def test_sdk_calls_of_every_framing_reuse_one_connection(aws, monkeypatch):
    opened = []
    create_connection = urllib3.util.connection.create_connection

    def counted(*args, **kwargs):
        opened.append(args[0])
        return create_connection(*args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", counted)
    # A client of its own (the cached ones share their pools with other tests).
    s3 = _build.__wrapped__("client", "s3", *_options(PRIMARY))
    bucket, key = media_bucket(PRIMARY), f"framing-{uuid.uuid4().hex}"

    for _ in range(3):
        # 200 with a body, HEAD (headers only), 204 (no body), a listing.
        s3.put_object(Bucket=bucket, Key=key, Body=b"photo", Metadata={"taken_by": "x"})
        head = s3.head_object(Bucket=bucket, Key=key)
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"photo"
        s3.delete_object(Bucket=bucket, Key=key)
        s3.list_objects_v2(Bucket=bucket, Prefix=key)

    # 15 calls made one after another: one connection opened, none per call.
    assert len(opened) == 1
    # moto's own header handling is kept: an S3 metadata name's underscore survives.
    assert head["Metadata"] == {"taken_by": "x"}
