"""What the front door relies on: /writablez in every state and its cost, /readyz
cached per process, and every answer naming its region (X-MRA-Region)."""

import threading
import time

import pytest
from django.test import Client

import mra_site.views
import routing.selectors
from routing.states import RoutingState
from tests.conftest import PRIMARY, SECONDARY
from tests.routing.helpers import move


def writablez(client, region_switch, region: str) -> tuple[int, dict]:
    region_switch(region)
    routing.selectors.clear_state_cache()
    response = client.get("/writablez")
    assert response["Cache-Control"].startswith("max-age=0")
    return response.status_code, response.json()


def expected(region: str, *, writable: bool, home: bool, state: str, version: int) -> dict:
    return {
        "region": region,
        "writable": writable,
        "home": home,
        "state": state,
        "version": version,
    }


def test_writablez_follows_the_state_in_every_step_of_a_failover_and_back(aws, client, region):
    steps = [
        # (state, version, writable region, home region)
        ("active", 1, PRIMARY, PRIMARY),
        ("fenced", 2, None, PRIMARY),
        ("failover", 3, SECONDARY, SECONDARY),
        ("fenced", 4, None, SECONDARY),
        ("active", 5, PRIMARY, PRIMARY),
    ]
    for state, version, writable, home in steps:
        if version > 1:
            move(RoutingState(state), version - 1, force=True)
        for name in (PRIMARY, SECONDARY):
            status, body = writablez(client, region, name)
            assert body == expected(
                name, writable=name == writable, home=name == home, state=state, version=version
            ), (state, name)
            assert status == (200 if name == writable else 503)


@pytest.mark.stops_region
def test_writablez_is_503_and_not_home_when_the_regions_own_aws_does_not_answer(
    aws, client, region
):
    aws[PRIMARY].stop()
    status, body = writablez(client, region, PRIMARY)
    assert status == 503
    assert body == {
        "region": PRIMARY,
        "writable": False,
        "home": False,
        "state": None,
        "version": None,
    }
    # The other region still answers from its own replica.
    assert writablez(client, region, SECONDARY) == (
        503,
        expected(SECONDARY, writable=False, home=False, state="active", version=1),
    )


def test_the_body_matches_the_doors_home_check_byte_for_byte(aws, client):
    # devstack/haproxy.cfg matches `"home": *true` in the body.
    assert b'"home": true' in client.get("/writablez").content


def test_polling_writablez_from_many_threads_reads_the_state_once_per_cache_period(
    aws, monkeypatch, settings
):
    settings.MRA_STATE_CACHE_SECONDS = 1.0
    reads = []
    original = routing.selectors.state_item_read

    def counted(*, region):
        reads.append(time.monotonic())
        return original(region=region)

    monkeypatch.setattr(routing.selectors, "state_item_read", counted)
    routing.selectors.clear_state_cache()
    polls = []
    stop = threading.Event()

    def poller() -> None:
        client = Client()
        while not stop.is_set():
            polls.append(client.get("/writablez").status_code)

    threads = [threading.Thread(target=poller) for _ in range(50)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(2.5)
    stop.set()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    assert set(polls) == {200}
    assert len(polls) > 50
    # One read per started second of polling at most (a read may start at each end).
    assert 1 <= len(reads) <= int(seconds) + 2
    gaps = [later - earlier for earlier, later in zip(reads, reads[1:], strict=False)]
    assert all(gap >= 0.99 for gap in gaps), gaps


def test_readyz_answers_from_its_cache_until_it_expires(aws, client, settings, monkeypatch):
    settings.MRA_READYZ_CACHE_SECONDS = 60
    mra_site.views.clear_readiness_cache()
    checks = []
    original = mra_site.views.region_readiness

    def counted(region):
        checks.append(region)
        time.sleep(0.2)  # long enough for every thread below to ask meanwhile
        return original(region)

    monkeypatch.setattr(mra_site.views, "region_readiness", counted)
    answers = []
    threads = [
        threading.Thread(target=lambda: answers.append(Client().get("/readyz").status_code))
        for _ in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * 20
    assert checks == [PRIMARY]

    aws[PRIMARY].reset()
    assert client.get("/readyz").status_code == 200  # still the cached answer
    settings.MRA_READYZ_CACHE_SECONDS = 0
    assert client.get("/readyz").status_code == 503
    mra_site.views.clear_readiness_cache()


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/healthz", 200),
        ("/static/favicon.svg", 200),
        ("/api/no-such-thing", 404),
        ("/no-such-page/", 404),
    ],
)
def test_every_answer_names_its_region(client, region, path, status):
    region(SECONDARY)
    response = client.get(path)
    assert response.status_code == status
    assert response["X-MRA-Region"] == SECONDARY


def test_pages_api_errors_and_error_pages_name_their_region(aws, client):
    assert client.get("/")["X-MRA-Region"] == PRIMARY
    refused = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "x"})
    assert refused.status_code == 403
    assert refused["X-MRA-Region"] == PRIMARY
    unauthenticated = client.post("/api/photos", {"title": "x"})
    assert unauthenticated.status_code == 401
    assert unauthenticated["X-MRA-Region"] == PRIMARY


def _behind_the_cache(monkeypatch) -> None:
    """Transitions made from here leave this process's state cache as it is, as
    one made by another process (the operator's console) does."""
    import routing.replicas
    import routing.transitions

    monkeypatch.setattr(routing.transitions, "clear_state_cache", lambda: None)
    monkeypatch.setattr(routing.replicas, "clear_state_cache", lambda: None)


def test_the_doors_checks_read_a_fenced_state_afresh_and_others_from_the_cache(
    aws, settings, monkeypatch
):
    settings.MRA_STATE_CACHE_SECONDS = 60
    routing.selectors.clear_state_cache()
    _behind_the_cache(monkeypatch)
    status = routing.selectors.routing_writable_status

    assert status(region=SECONDARY).state == "active"
    move(RoutingState.FENCED, 1)
    # Active: the cached state stands for its minute.
    assert status(region=SECONDARY).state == "active"

    routing.selectors.clear_state_cache()
    assert status(region=SECONDARY).state == "fenced"
    move(RoutingState.FAILOVER, 2, force=True)
    time.sleep(routing.selectors.FENCED_MAX_AGE_SECONDS * 2)
    # Fenced: the promotion is seen at the next check, the cache notwithstanding.
    promoted = status(region=SECONDARY)
    assert (promoted.state, promoted.writable, promoted.home) == ("failover", True, True)
