"""The local front door (HAProxy, devstack/door.py) in front of the two sites:
writes follow the routing state, reads survive a stopped or frozen home region."""

import io
import json
import os
import signal
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from PIL import Image

from devstack import gunicorn
from devstack.door import Door
from mra_site.aws import cognito
from mra_site.polling import poll
from routing.states import RoutingState
from tests.conftest import PRIMARY, SECONDARY
from tests.routing.helpers import move

DEADLINE = 30


def png() -> bytes:
    data = io.BytesIO()
    Image.new("RGB", (8, 8), (20, 120, 200)).save(data, format="PNG")
    return data.getvalue()


@pytest.fixture
def bearer(make_user) -> dict[str, str]:
    make_user("dora", "Correct-horse-1")
    token = cognito.sign_in(region=PRIMARY, username="dora", password="Correct-horse-1")
    return {"Authorization": f"Bearer {token.access_token}"}


def test_writes_through_the_door_follow_every_transition_and_never_see_a_421(aws, door, bearer):
    answers: list[int] = []

    def upload() -> requests.Response:
        response = requests.post(
            f"{door.url}/api/photos",
            files={"image": ("p.png", png(), "image/png")},
            data={"title": "through the door"},
            headers=bearer,
            timeout=30,
        )
        answers.append(response.status_code)
        return response

    def lands(status: int, region: str) -> None:
        def check() -> bool:
            response = upload()
            if response.status_code == 503:
                assert response.headers["Retry-After"]
            return (response.status_code, response.headers.get("X-MRA-Region")) == (
                status,
                region,
            )

        poll(check, timeout=DEADLINE, interval=0.2, what=f"a write answered {status} by {region}")

    lands(201, PRIMARY)
    move(RoutingState.FENCED, 1)
    lands(503, PRIMARY)
    fenced = upload()
    assert fenced.headers["Retry-After"] == "1"
    assert fenced.json()["error"] == "fenced"
    move(RoutingState.FAILOVER, 2, force=True)
    lands(201, SECONDARY)
    move(RoutingState.FENCED, 3)
    lands(503, SECONDARY)
    move(RoutingState.ACTIVE, 4, force=True)
    lands(201, PRIMARY)
    assert 421 not in answers
    assert set(answers) <= {201, 503}


def test_reads_through_the_door_survive_a_frozen_and_a_stopped_primary_site(aws, door, sites):
    primary = sites[PRIMARY]
    assert primary.proc is not None

    def read() -> requests.Response:
        return requests.get(f"{door.url}/api/photos", timeout=30)

    def reads_from(region: str) -> bool:
        response = read()
        assert response.status_code == 200
        return response.headers["X-MRA-Region"] == region

    assert read().headers["X-MRA-Region"] == PRIMARY
    os.killpg(primary.proc.pid, signal.SIGSTOP)
    try:
        poll(lambda: reads_from(SECONDARY), timeout=DEADLINE, what="reads served by us-west-2")
    finally:
        os.killpg(primary.proc.pid, signal.SIGCONT)
    poll(lambda: reads_from(PRIMARY), timeout=DEADLINE, what="reads back home")

    primary.kill()
    try:
        poll(lambda: reads_from(SECONDARY), timeout=DEADLINE, what="reads served by us-west-2")
    finally:
        primary.start()
    poll(lambda: reads_from(PRIMARY), timeout=DEADLINE, what="reads back home")


class FakeSite(BaseHTTPRequestHandler):
    """A region that is home (or not) and echoes the headers it got."""

    home = True
    ready = True

    def do_GET(self) -> None:
        site = type(self)
        if self.path == "/writablez":
            self._answer(200 if site.home else 503, {"home": site.home})
        elif self.path == "/readyz":
            self._answer(200 if site.ready else 503, {})
        else:
            self._answer(200, {"door": self.headers.get_all("X-MRA-Door")})

    do_POST = do_GET

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def fake_door(log_dir) -> Iterator[Door]:
    """A door over two fake regions (no AWS, no Django)."""
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), FakeSite) for _ in range(2)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    front = Door(
        {
            region: f"127.0.0.1:{server.server_address[1]}"
            for region, server in zip((PRIMARY, SECONDARY), servers, strict=True)
        },
        log_dir,
    )
    FakeSite.home, FakeSite.ready = True, True
    front.start()
    yield front
    front.stop()
    for server in servers:
        server.shutdown()
    FakeSite.home, FakeSite.ready = True, True


def test_the_door_sets_its_own_header_whatever_the_client_sent(fake_door):
    response = requests.get(f"{fake_door.url}/echo", headers={"X-MRA-Door": "0"}, timeout=10)
    assert response.json() == {"door": ["1"]}


def test_with_no_home_region_the_door_answers_json_503_with_retry_after(fake_door):
    FakeSite.home = False

    def refused() -> bool:
        return requests.post(f"{fake_door.url}/api/photos", timeout=10).status_code == 503

    poll(refused, timeout=DEADLINE, what="the door without a home region")
    response = requests.post(f"{fake_door.url}/api/photos", timeout=10)
    assert response.headers["Retry-After"] == "1"
    assert response.json()["error"] == "unavailable"


def _trickle_upload(door_url: str, bearer: dict[str, str], release: threading.Event) -> None:
    """An upload whose body arrives a few bytes at a time until `release`: it holds a
    thread of whichever site it reaches, as a phone on a slow uplink does."""
    host, port = door_url.removeprefix("http://").split(":")
    length = 1_000_000
    head = (
        "POST /api/photos HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        f"Authorization: {bearer['Authorization']}\r\n"
        "Content-Type: multipart/form-data; boundary=trickle\r\n"
        f"Content-Length: {length}\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(head.encode())
        while not release.wait(0.05):
            sock.sendall(b"trickle--")


def test_a_site_busy_with_slow_uploads_stays_healthy_behind_the_door(aws, door, sites, bearer):
    """More slow uploads than the site has threads: the door lets in only its share, so the
    site keeps answering its health checks and stays the door's home for reads."""
    release = threading.Event()
    uploads = [
        threading.Thread(target=_trickle_upload, args=(door.url, bearer, release), daemon=True)
        for _ in range(gunicorn.THREADS + 4)
    ]
    for upload in uploads:
        upload.start()
    try:
        # Longer than the door needs to take a region out whose checks time out.
        release.wait(3)
        assert requests.get(f"{sites[PRIMARY].url}/writablez", timeout=5).status_code == 200
        for _ in range(5):
            response = requests.get(f"{door.url}/api/photos", timeout=10)
            assert response.status_code == 200
            assert response.headers["X-MRA-Region"] == PRIMARY
        assert all(upload.is_alive() for upload in uploads), "the uploads were still sending"
    finally:
        release.set()
        for upload in uploads:
            upload.join(timeout=10)


def test_reads_follow_the_writes_home_when_no_region_reports_ready(fake_door):
    """/readyz can fail everywhere at once (slow under load); reads still get an answer."""
    FakeSite.ready = False
    # Three failed checks half a second apart take both regions out of the reads.
    threading.Event().wait(3)
    for _ in range(3):
        response = requests.get(f"{fake_door.url}/echo", timeout=10)
        assert (response.status_code, response.json()) == (200, {"door": ["1"]})
