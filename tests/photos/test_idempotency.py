"""Idempotency-Key on the create endpoints, and outcomes told truthfully when the
writing region freezes mid-write (as its answers are lost, not its writes)."""

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import psutil
import pytest
from django.http import HttpResponse
from django.test import Client

from accounts import registry
from mra_site.aws.clients import dynamodb_resource, dynamodb_table
from mra_site.polling import poll
from mra_site.resources import table_name
from photos import idempotency
from photos.errors import InvalidInput
from photos.idempotency import Endpoint, attempt_start, key_parse, scope_for
from routing.selectors import clear_state_cache
from routing.states import RoutingState
from tests.conftest import PRIMARY, SECONDARY
from tests.photos.conftest import csrf_token, image_bytes, upload_file
from tests.photos.schema import ApiSchema
from tests.replication.conftest import replicator, state_dir  # noqa: F401
from tests.routing.helpers import move


def stored(region: str = PRIMARY) -> dict[str, list[dict]]:
    """Every item of the photos table, by kind."""
    table = dynamodb_table(region, table_name("photos"))
    items: list[dict] = []
    kwargs: dict = {"ConsistentRead": True}
    while True:
        page = table.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    kinds: dict[str, list[dict]] = {"photos": [], "comments": [], "keys": []}
    for item in items:
        if item["pk"].startswith("IDEMPOTENCY#"):
            kinds["keys"].append(item)
        elif item["sk"] == "META":
            kinds["photos"].append(item)
        elif item["sk"].startswith("COMMENT#"):
            kinds["comments"].append(item)
    return kinds


def post_photo(client: Client, key: str | None, *, title: str = "Dunes", color=(1, 2, 3)):
    headers = {idempotency.HEADER: key} if key is not None else {}
    data = {"title": title, "image": upload_file(image_bytes("PNG", size=(8, 8), color=color))}
    return client.post("/api/photos", data, headers=headers)


def post_comment(client: Client, photo_id: str, key: str | None, message: str = "Nice"):
    headers = {idempotency.HEADER: key} if key is not None else {}
    return client.post(
        f"/api/photos/{photo_id}/comments",
        {"message": message},
        content_type="application/json",
        headers=headers,
    )


def test_key_format():
    assert key_parse(None) is None
    for good in ("a", "550e8400-e29b-41d4-a716-446655440000", "x" * 128, "a b~!"):
        assert key_parse(good) == good
    for bad in ("", " a", "a ", "x" * 129, "caf\u00e9", "a\tb", "a\x00"):
        with pytest.raises(InvalidInput) as refused:
            key_parse(bad)
        assert refused.value.code == "invalid_idempotency_key"
        assert "128 printable ASCII" in refused.value.detail


def test_a_retry_replays_the_first_201_and_stores_nothing_new(aws, api_client):
    alice = api_client("alice")
    malformed = post_photo(alice, "é" * 3)
    assert malformed.status_code == 400
    assert malformed.json()["error"] == "invalid_idempotency_key"

    # A refused first attempt keeps no key: the corrected retry is stored.
    refused = post_photo(alice, "k1", title=" ")
    assert refused.status_code == 400
    assert stored()["keys"] == []
    first = post_photo(alice, "k1")
    assert first.status_code == 201, first.content
    again = post_photo(alice, "k1")
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["title"] == first.json()["title"]

    reused = post_photo(alice, "k1", title="Other title")
    assert reused.status_code == 422
    assert reused.json()["error"] == "idempotency_key_reused"
    schema = ApiSchema(alice)
    for answer in (malformed, refused, first, again, reused):
        schema.check("POST", "/api/photos", answer)
    for path in ("/api/photos", "/api/photos/{photo_id}/comments"):
        operation = schema.spec["paths"][path]["post"]
        assert {"in": "header", "name": "Idempotency-Key"}.items() <= operation["parameters"][
            0
        ].items()
        assert {"409", "422", "503"} <= set(operation["responses"])
    assert post_photo(alice, "k1", color=(9, 9, 9)).status_code == 422
    # Scoped to the user: bob's k1 is his own.
    assert post_photo(api_client("bob"), "k1").json()["id"] != first.json()["id"]

    photo_id = first.json()["id"]
    comment = post_comment(alice, photo_id, "c1")
    assert comment.status_code == 201
    assert post_comment(alice, photo_id, "c1").json()["id"] == comment.json()["id"]
    assert post_comment(alice, photo_id, "c1", "Other words").status_code == 422
    # The same key on the other endpoint is another key.
    assert post_photo(alice, "c1").status_code == 201

    kinds = stored()
    assert len(kinds["photos"]) == 3 and len(kinds["comments"]) == 1
    assert len(kinds["keys"]) == 4
    assert {k["idem_state"] for k in kinds["keys"]} == {"done"}
    assert all(int(k["expires_at"]) > time.time() + 23 * 3600 for k in kinds["keys"])
    assert alice.get(f"/api/photos/{photo_id}").json()["comment_count"] == 1
    # Key records are invisible to the lists.
    gallery = alice.get("/api/photos").json()["results"]
    assert len(gallery) == 3
    assert [c["id"] for c in alice.get(f"/api/photos/{photo_id}/comments").json()["results"]] == [
        comment.json()["id"]
    ]


def test_a_retry_while_the_first_attempt_runs_is_told_to_wait(aws, api_client, monkeypatch):
    alice = api_client("alice")
    data = image_bytes("PNG", size=(8, 8), color=(1, 2, 3))
    alice_id = registry.user_by_name(username="alice", region=PRIMARY, consistent=True).id
    scope = scope_for(key="k2", user=alice_id, endpoint=Endpoint.PHOTOS, parts=("Dunes", data))
    attempt_start(scope=scope, region=PRIMARY, claim=True)  # an upload writing its media

    busy = post_photo(alice, "k2")
    assert busy.status_code == 409
    assert busy.json()["error"] == "write_in_flight"
    assert int(busy["Retry-After"]) >= 1
    ApiSchema(alice).check("POST", "/api/photos", busy)
    assert stored()["photos"] == []

    # An attempt older than the write deadline died: the retry takes its key over.
    monkeypatch.setattr(idempotency, "PENDING_ABANDONED_SECONDS", 0)
    time.sleep(0.01)
    taken = post_photo(alice, "k2")
    assert taken.status_code == 201
    assert post_photo(alice, "k2").json()["id"] == taken.json()["id"]
    assert len(stored()["photos"]) == 1


def test_a_form_sent_twice_or_again_is_stored_once(aws, page_client):
    browser = page_client("alice")
    html = browser.get("/upload/").content.decode()
    key = html.split('name="idempotency_key" value="', 1)[1].split('"', 1)[0]
    assert key_parse(key) == key
    token = csrf_token(browser, "/upload/")

    def send(_: int) -> HttpResponse:
        return browser.post(
            "/upload/",
            {
                "csrfmiddlewaretoken": token,
                "idempotency_key": key,
                "title": "Twice",
                "image": upload_file(image_bytes("PNG", size=(8, 8))),
            },
        )

    # A double click: both at once; then a browser's resubmission.
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(send, range(2)))
    answers.append(send(2))
    assert [a.status_code for a in answers] == [302, 302, 302]
    assert len({a["Location"] for a in answers}) == 1
    assert len(stored()["photos"]) == 1
    assert browser.get("/upload/").content.decode().count(key) == 0


@contextmanager
def before_transaction(nth: int, act: Callable[[], None]) -> Iterator[threading.Event]:
    """Run `act` as this process sends its `nth` next TransactWriteItems to the primary."""
    sent: list[int] = []
    fired = threading.Event()

    def hook(**_: object) -> None:
        sent.append(1)
        if len(sent) == nth:
            fired.set()
            act()

    events = dynamodb_resource(PRIMARY).meta.client.meta.events
    events.register("before-send.dynamodb.TransactWriteItems", hook)
    try:
        yield fired
    finally:
        events.unregister("before-send.dynamodb.TransactWriteItems", hook)


@contextmanager
def frozen_on_commit(emulator, seconds: float, *, nth: int = 1) -> Iterator[threading.Event]:
    """Freeze the region's emulator (SIGSTOP) as this process sends its `nth` next
    transaction, for `seconds`: the request sits unanswered, then is applied."""
    root = psutil.Process(emulator.proc.pid)
    processes = [root, *root.children(recursive=True)]
    thawed = threading.Event()

    def thaw() -> None:
        for process in processes:
            process.resume()
        thawed.set()

    def freeze() -> None:
        for process in processes:
            process.suspend()
        threading.Timer(seconds, thaw).start()

    try:
        with before_transaction(nth, freeze) as fired:
            yield fired
    finally:
        if fired.is_set():
            thawed.wait(seconds + 5)
        thaw()


def test_an_upload_refused_by_a_fence_frees_its_key(aws, api_client):
    alice = api_client("alice")
    # The fence lands between the upload's claim of its key and its commit.
    with before_transaction(2, lambda: move(RoutingState.FENCED, 1)) as fired:
        fenced = post_photo(alice, "fenced-key")
    assert fired.is_set()
    assert fenced.status_code == 503 and fenced.json()["error"] == "fenced"
    assert stored()["keys"] == [] and stored()["photos"] == []
    move(RoutingState.ACTIVE, 2)
    clear_state_cache()
    assert post_photo(alice, "fenced-key").status_code == 201


@pytest.fixture
def short_timeouts(settings):
    """The site's AWS timeouts scaled down (same shape: two attempts, then the
    region breaker), so that a freeze of a second or two outlasts them. The
    session's site processes keep their 2.5 s read timeout, longer than any
    freeze here: a call of theirs meanwhile is answered late, and trips nothing."""
    settings.MRA_AWS_CONNECT_TIMEOUT = 0.5
    settings.MRA_AWS_READ_TIMEOUT = 0.5
    settings.MRA_AWS_REGION_COOLDOWN = 0.5


def retried(send: Callable[[], HttpResponse]) -> HttpResponse:
    """Send until the answer is not a 503 or 409, as a client honouring Retry-After."""
    answers: list[HttpResponse] = []

    def settled() -> bool:
        answers.append(send())
        return answers[-1].status_code not in (409, 503)

    poll(settled, timeout=20, interval=0.3, what="the retry being answered")
    return answers[-1]


@pytest.mark.stops_region
def test_a_write_frozen_mid_commit_is_reported_truthfully(aws, api_client, short_timeouts):
    alice = api_client("alice")
    photo_id = post_photo(alice, None).json()["id"]

    # Frozen for less than both tries: botocore's retry is refused as "already
    # exists" by the first try, which landed; that is recognised as this write.
    with frozen_on_commit(aws[PRIMARY], 0.8) as fired:
        lost_answer = post_comment(alice, photo_id, None, "Without a key")
    assert fired.is_set()
    assert lost_answer.status_code == 201, lost_answer.content
    assert [c["id"] for c in stored()["comments"]] == [lost_answer.json()["id"]]

    # Frozen beyond both tries of an upload's commit (its second transaction, after
    # claiming its key): 201 or 503 outcome_unknown, never a lie; the retry with the
    # same key completes it exactly once.
    def upload() -> HttpResponse:
        return post_photo(alice, "frozen-photo", title="Frozen")

    with frozen_on_commit(aws[PRIMARY], 2.0, nth=2) as fired:
        answer = upload()
    assert fired.is_set()
    assert answer.status_code in (201, 503), answer.content
    if answer.status_code == 503:
        assert answer.json()["error"] == "outcome_unknown"
        assert int(answer["Retry-After"]) >= 1
        ApiSchema(alice).check("POST", "/api/photos", answer)
    final = retried(upload)
    assert final.status_code == 201, final.content
    if answer.status_code == 201:
        assert final.json()["id"] == answer.json()["id"]
    kinds = stored()
    assert len(kinds["comments"]) == 1 and len(kinds["photos"]) == 2
    assert alice.get(f"/api/photos/{photo_id}").json()["comment_count"] == 1


def test_a_retry_after_failover_replays_in_the_other_region(replicator, api_client, region):  # noqa: F811
    alice = api_client("alice")
    photo = post_photo(alice, "p-key").json()
    comment = post_comment(alice, photo["id"], "c-key").json()
    poll(
        lambda: len(stored(SECONDARY)["keys"]) == 2 and len(stored(SECONDARY)["comments"]) == 1,
        timeout=20,
        what="the writes and their keys replicating",
    )
    move(RoutingState.FENCED, 1)
    move(RoutingState.FAILOVER, 2, force=True)
    region(SECONDARY)
    clear_state_cache()

    assert post_photo(alice, "p-key").json()["id"] == photo["id"]
    assert post_comment(alice, photo["id"], "c-key").json()["id"] == comment["id"]
    assert post_photo(alice, "p-key", title="Changed").status_code == 422
    kinds = stored(SECONDARY)
    assert len(kinds["photos"]) == 1 and len(kinds["comments"]) == 1
